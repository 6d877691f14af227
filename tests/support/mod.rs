//! Shared by the integration tests: one context, host random numbers, CPU
//! f64 references and tolerance helpers. Each op family's test file adds its
//! own references and uses these for the rest.
#![allow(dead_code)]

use std::sync::LazyLock;

use pixgrad::{BorderType, Context, Tensor};

static CONTEXT: LazyLock<Context> = LazyLock::new(|| {
    let ctx = Context::new().expect("a GPU adapter (see README: software Vulkan or GL)");
    // The suite runs under the WebGPU default limits, so it passes on any device.
    if ctx.adapter_info().backend == pixgrad::wgpu::Backend::Vulkan {
        assert_eq!(ctx.limits(), pixgrad::wgpu::Limits::default());
    }
    ctx
});

/// The context shared by a test binary's tests.
pub fn ctx() -> Context {
    CONTEXT.clone()
}

/// Deterministic host random numbers (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` values in [lo, hi), each exactly representable in f32.
    pub fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi) as f32 as f64).collect()
    }
}

pub fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

pub fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// A GPU tensor holding `values` (rounded to f32).
pub fn tensor(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(&ctx(), &to_f32(values), shape).unwrap()
}

pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Asserts `|got - want| <= atol + rtol·|want|` element-wise; IEEE specials
/// (NaN, ±inf) must match exactly.
#[track_caller]
pub fn assert_close(got: &[f32], want: &[f64], rtol: f64, atol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let g = g as f64;
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= atol + rtol * w.abs()
        };
        assert!(ok, "{what}[{i}]: got {g}, want {w}");
    }
}

/// The values of case `name` in a data file of `name` lines each followed by
/// one line of numbers (tests/data/*.py write them).
pub fn data_case(text: &str, name: &str) -> Vec<f64> {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let values = lines.next().expect("each case has a line of values");
        if line == name {
            return values.split_whitespace().map(|v| v.parse().unwrap()).collect();
        }
    }
    panic!("no case {name}");
}

/// Where a padded coordinate `i` reads along an axis of length `n` (None:
/// the constant border), the f64 references' border modes.
pub fn border_index(i: isize, n: usize, border: BorderType) -> Option<usize> {
    let n = n as isize;
    if (0..n).contains(&i) {
        return Some(i as usize);
    }
    match border {
        BorderType::Constant(_) => None,
        BorderType::Reflect => Some(if i < 0 { -i } else { 2 * (n - 1) - i } as usize),
        BorderType::Replicate => Some(i.clamp(0, n - 1) as usize),
        BorderType::Circular => Some(i.rem_euclid(n) as usize),
    }
}

/// The bit patterns of every value of `tensors`, to compare two runs exactly.
pub fn bits(tensors: &[&Tensor]) -> Vec<u32> {
    tensors.iter().flat_map(|t| t.to_vec().unwrap()).map(f32::to_bits).collect()
}

/// A host gather: output element `e` of `out_shape` reads `values` (of
/// `shape`) at the index whose coordinate along each output axis `d` is
/// `source(d, i)` for the output coordinate `i`, on input axis `axis_of(d)`.
pub fn gather_ref(
    values: &[f64],
    shape: &[usize],
    out_shape: &[usize],
    axis_of: impl Fn(usize) -> usize,
    source: impl Fn(usize, usize) -> usize,
) -> Vec<f64> {
    let (st, os) = (strides(shape), strides(out_shape));
    (0..numel(out_shape))
        .map(|e| {
            values[(0..out_shape.len()).map(|d| source(d, (e / os[d]) % out_shape[d]) * st[axis_of(d)]).sum::<usize>()]
        })
        .collect()
}

/// Row-major strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// Index into an operand of shape `shape` broadcast to `out` for the
/// row-major output index `i` (the CPU reference of broadcasting).
pub fn broadcast_index(i: usize, out: &[usize], shape: &[usize]) -> usize {
    let out_strides = strides(out);
    let own = strides(shape);
    let pad = out.len() - shape.len();
    let mut index = 0;
    for d in 0..out.len() {
        let coord = (i / out_strides[d]) % out[d];
        if d >= pad && shape[d - pad] != 1 {
            index += coord * own[d - pad];
        }
    }
    index
}

/// The CPU reference of summing `x` of shape `input` down to `output`.
pub fn reduce_ref(x: &[f64], input: &[usize], output: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; numel(output)];
    for (i, &v) in x.iter().enumerate() {
        out[broadcast_index(i, input, output)] += v;
    }
    out
}

/// Central finite-difference check of a CPU f64 reference: compares
/// `⟨vjp(x, u), v⟩` with `(⟨f(x + h v), u⟩ - ⟨f(x - h v), u⟩) / 2h` for
/// random `u`, `v`. Returns the relative error.
pub fn fd_check(f: impl Fn(&[f64]) -> Vec<f64>, vjp: impl Fn(&[f64], &[f64]) -> Vec<f64>, x: &[f64], seed: u64) -> f64 {
    let mut rng = Rng::new(seed);
    let y = f(x);
    let u = rng.vec(y.len(), -1.0, 1.0);
    let v = rng.vec(x.len(), -1.0, 1.0);
    let h = 1e-6;
    let at = |s: f64| {
        let moved: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + s * h * b).collect();
        dot(&f(&moved), &u)
    };
    let numeric = (at(1.0) - at(-1.0)) / (2.0 * h);
    let analytic = dot(&vjp(x, &u), &v);
    (numeric - analytic).abs() / numeric.abs().max(analytic.abs()).max(1e-12)
}

/// Every entry within `tol` times the largest reference magnitude.
pub fn assert_within(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-30);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((f64::from(g) - w).abs() <= tol * scale, "{what}[{i}]: {g} vs {w} (scale {scale})");
    }
}

/// The GPU's values against the f64 reference's (within 2e-5 of their
/// largest), and `⟨∇, v⟩` of its gradient against the reference's central
/// difference along `v`, for random incoming gradients `u` (any output
/// shape).
pub fn check_directional(
    what: &str,
    values: &[f64],
    shape: [usize; 4],
    gpu: impl Fn(&Tensor) -> Tensor,
    reference: impl Fn(&[f64]) -> Vec<f64>,
    tol: f64,
) {
    check_directional_within(what, values, shape, gpu, reference, [2e-5, 1e-6, tol]);
}

/// [`check_directional`] with `[value tolerance, difference step,
/// gradient tolerance]`: samplers at photo-sized coordinates carry f32
/// rounding of ~1e-4 px into their values, and need a step small enough
/// that few samples cross a pixel boundary (a bilinear kink) within it.
pub fn check_directional_within(
    what: &str,
    values: &[f64],
    shape: [usize; 4],
    gpu: impl Fn(&Tensor) -> Tensor,
    reference: impl Fn(&[f64]) -> Vec<f64>,
    [value_tol, h, tol]: [f64; 3],
) {
    let mut rng = Rng::new(21);
    let x = Tensor::from_slice(&ctx(), &to_f32(values), &shape).unwrap().with_grad();
    let want = reference(values);
    assert_within(&gpu(&x).to_vec().unwrap(), &want, value_tol, what);
    for trial in 0..3 {
        let y = gpu(&x);
        let u = rng.vec(want.len(), -1.0, 1.0);
        let seed = Tensor::from_slice(&ctx(), &to_f32(&u), y.shape()).unwrap();
        let gx = to_f64(&y.backward_with(&seed).unwrap().get(&x).unwrap().to_vec().unwrap());
        let v = rng.vec(values.len(), -1.0, 1.0);
        let at = |s: f64| {
            let moved: Vec<f64> = values.iter().zip(&v).map(|(a, b)| a + s * h * b).collect();
            dot(&reference(&moved), &u)
        };
        let numeric = (at(1.0) - at(-1.0)) / (2.0 * h);
        let analytic = dot(&gx, &v);
        let err = (numeric - analytic).abs() / numeric.abs().max(analytic.abs());
        assert!(err < tol, "{what} trial {trial}: {analytic} vs {numeric} ({err})");
    }
}

pub mod dual;
pub mod ops;
pub mod sampling;
