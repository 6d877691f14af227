//! conv2d and conv_transpose2d: PyTorch's own outputs and gradients
//! (tests/data/filters2_cases.py), an f64 reference whose adjoints pass the
//! dot-product test, the GPU against it over strides, padding, dilation and
//! groups (the depthwise fast path included), dot-product tests on the GPU,
//! determinism across contexts, bad input.

mod support;

use pixgrad::check::check_adjoint;
use pixgrad::{Context, ConvOptions, Error, Tensor};
use support::*;

const CASES: &str = include_str!("data/filters2_cases.txt");

/// A conv2d geometry: input `[n, cin, h, w]`, weight `[cout, cin / groups, ky, kx]`.
#[derive(Clone, Copy, Debug)]
struct Conv {
    n: usize,
    cin: usize,
    h: usize,
    w: usize,
    cout: usize,
    groups: usize,
    k: [usize; 2],
    s: [usize; 2],
    p: [usize; 2],
    d: [usize; 2],
}

impl Conv {
    fn out_size(&self) -> [usize; 2] {
        [0, 1].map(|a| ([self.h, self.w][a] + 2 * self.p[a] - self.d[a] * (self.k[a] - 1) - 1) / self.s[a] + 1)
    }

    fn x_shape(&self) -> [usize; 4] {
        [self.n, self.cin, self.h, self.w]
    }

    fn w_shape(&self) -> [usize; 4] {
        [self.cout, self.cin / self.groups, self.k[0], self.k[1]]
    }

    fn y_shape(&self) -> [usize; 4] {
        let [ho, wo] = self.out_size();
        [self.n, self.cout, ho, wo]
    }

    fn options(&self) -> ConvOptions {
        ConvOptions {
            stride: [self.s[0], self.s[1]],
            padding: [self.p[0], self.p[1]],
            dilation: [self.d[0], self.d[1]],
            groups: self.groups,
            output_padding: [0, 0],
        }
    }

    /// Visits every product `y[out] += w[weight] · x[input]` of the
    /// definition (taps reading the zero padding are skipped).
    fn for_each_product(&self, mut f: impl FnMut(usize, usize, usize)) {
        let [ho, wo] = self.out_size();
        let (cin_g, cout_g) = (self.cin / self.groups, self.cout / self.groups);
        for b in 0..self.n {
            for o in 0..self.cout {
                let g = o / cout_g;
                for yo in 0..ho {
                    for xo in 0..wo {
                        let out = ((b * self.cout + o) * ho + yo) * wo + xo;
                        for c in 0..cin_g {
                            let ci = g * cin_g + c;
                            for i in 0..self.k[0] {
                                for j in 0..self.k[1] {
                                    let y = (yo * self.s[0] + i * self.d[0]) as isize - self.p[0] as isize;
                                    let x = (xo * self.s[1] + j * self.d[1]) as isize - self.p[1] as isize;
                                    if y < 0 || x < 0 || y >= self.h as isize || x >= self.w as isize {
                                        continue;
                                    }
                                    let input = ((b * self.cin + ci) * self.h + y as usize) * self.w + x as usize;
                                    let weight = ((o * cin_g + c) * self.k[0] + i) * self.k[1] + j;
                                    f(out, weight, input);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn forward(&self, x: &[f64], w: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; numel(&self.y_shape())];
        self.for_each_product(|o, k, i| y[o] += w[k] * x[i]);
        y
    }

    fn input_adjoint(&self, gy: &[f64], w: &[f64]) -> Vec<f64> {
        let mut gx = vec![0.0; numel(&self.x_shape())];
        self.for_each_product(|o, k, i| gx[i] += w[k] * gy[o]);
        gx
    }

    fn weight_adjoint(&self, x: &[f64], gy: &[f64]) -> Vec<f64> {
        let mut gw = vec![0.0; numel(&self.w_shape())];
        self.for_each_product(|o, k, i| gw[k] += x[i] * gy[o]);
        gw
    }
}

fn conv(n: usize, cin: usize, hw: [usize; 2], cout: usize, groups: usize, k: [usize; 2]) -> Conv {
    Conv { n, cin, h: hw[0], w: hw[1], cout, groups, k, s: [1, 1], p: [0, 0], d: [1, 1] }
}

/// Geometries covering every channel block (8, 4, 2, 1 per thread), widths
/// that are not multiples of the 8-wide strips, strides, dilations, even
/// kernels, groups, the depthwise fast path and wide kernels.
fn geometries() -> Vec<Conv> {
    vec![
        Conv { p: [1, 1], ..conv(2, 3, [9, 11], 8, 1, [3, 3]) },
        Conv { p: [1, 2], s: [2, 2], ..conv(1, 16, [10, 13], 16, 1, [3, 5]) },
        Conv { p: [2, 0], d: [2, 3], ..conv(1, 4, [11, 17], 12, 2, [3, 2]) },
        Conv { p: [1, 1], ..conv(2, 6, [7, 9], 6, 6, [3, 3]) },
        Conv { p: [2, 2], ..conv(1, 6, [8, 10], 6, 6, [5, 5]) },
        Conv { p: [0, 1], s: [3, 2], ..conv(1, 6, [12, 9], 12, 6, [4, 3]) },
        Conv { p: [3, 3], ..conv(1, 2, [9, 20], 2, 1, [7, 7]) },
        conv(3, 5, [6, 6], 7, 1, [1, 1]),
        Conv { p: [0, 9], ..conv(1, 1, [3, 21], 2, 1, [1, 19]) },
    ]
}

#[test]
fn reference_adjoints_pass_the_dot_product_test() {
    let mut rng = Rng::new(1);
    for g in geometries() {
        let x = rng.vec(numel(&g.x_shape()), -1.0, 1.0);
        let w = rng.vec(numel(&g.w_shape()), -1.0, 1.0);
        let gy = rng.vec(numel(&g.y_shape()), -1.0, 1.0);
        let lhs = dot(&g.forward(&x, &w), &gy);
        for rhs in [dot(&x, &g.input_adjoint(&gy, &w)), dot(&w, &g.weight_adjoint(&x, &gy))] {
            assert!((lhs - rhs).abs() < 1e-9 * lhs.abs().max(1.0), "{g:?}: {lhs} vs {rhs}");
        }
    }
}

#[test]
fn conv2d_matches_the_reference_and_passes_dot_product_tests() {
    let mut rng = Rng::new(2);
    for g in geometries() {
        let x = rng.vec(numel(&g.x_shape()), -1.0, 1.0);
        let w = rng.vec(numel(&g.w_shape()), -1.0, 1.0);
        let b = rng.vec(g.cout, -1.0, 1.0);
        let gy = rng.vec(numel(&g.y_shape()), -1.0, 1.0);
        let (xt, wt, bt) = (
            tensor(&x, &g.x_shape()).with_grad(),
            tensor(&w, &g.w_shape()).with_grad(),
            tensor(&b, &[g.cout]).with_grad(),
        );
        let y = xt.conv2d(&wt, Some(&bt), g.options()).unwrap();
        assert_eq!(y.shape(), g.y_shape(), "{g:?}");
        let mut want = g.forward(&x, &w);
        let plane = numel(&g.y_shape()[2..]);
        want.iter_mut().enumerate().for_each(|(i, v)| *v += b[(i / plane) % g.cout]);
        assert_close(&y.to_vec().unwrap(), &want, 1e-5, 1e-5, &format!("forward {g:?}"));
        let grads = y.backward_with(&tensor(&gy, &g.y_shape())).unwrap();
        let gx = grads.get(&xt).unwrap().to_vec().unwrap();
        assert_close(&gx, &g.input_adjoint(&gy, &w), 1e-5, 1e-5, &format!("input gradient {g:?}"));
        let gw = grads.get(&wt).unwrap().to_vec().unwrap();
        assert_close(&gw, &g.weight_adjoint(&x, &gy), 1e-5, 1e-4, &format!("weight gradient {g:?}"));
        let db = reduce_ref(&gy, &g.y_shape(), &[1, g.cout, 1, 1]);
        assert_close(&grads.get(&bt).unwrap().to_vec().unwrap(), &db, 1e-5, 1e-4, "bias gradient");

        let wf = wt.detach();
        let err = check_adjoint(|x| x.conv2d(&wf, None, g.options()), &xt, 3).unwrap();
        assert!(err < 1e-5, "input dot-product test {g:?}: {err}");
        let xf = xt.detach();
        let err = check_adjoint(|w| xf.conv2d(w, None, g.options()), &wt, 4).unwrap();
        assert!(err < 1e-5, "weight dot-product test {g:?}: {err}");
    }
}

/// conv_transpose2d is conv2d's input adjoint: its forward is the
/// reference's `input_adjoint` and its gradients the forward and the weight
/// adjoint with the roles swapped.
#[test]
fn conv_transpose2d_matches_the_reference_and_passes_dot_product_tests() {
    let mut rng = Rng::new(5);
    for g in geometries() {
        let [.., ho, wo] = g.y_shape();
        // The transpose maps the small side back onto the big one; output
        // padding recovers the rows a stride dropped.
        let extra = [0, 1].map(|a| ([g.h, g.w][a] + 2 * g.p[a] - g.d[a] * (g.k[a] - 1) - 1) % g.s[a]);
        let options = ConvOptions { output_padding: [extra[0], extra[1]], ..g.options() };
        if extra.iter().zip(g.s).zip(g.d).any(|((&e, s), d)| e >= s && e >= d) {
            continue;
        }
        let x = rng.vec(numel(&g.y_shape()), -1.0, 1.0);
        let w = rng.vec(numel(&g.w_shape()), -1.0, 1.0);
        let gy = rng.vec(numel(&g.x_shape()), -1.0, 1.0);
        let (xt, wt) = (tensor(&x, &g.y_shape()).with_grad(), tensor(&w, &g.w_shape()).with_grad());
        let y = xt.conv_transpose2d(&wt, None, options).unwrap();
        assert_eq!(y.shape(), g.x_shape(), "{g:?} from {ho}x{wo}");
        assert_close(&y.to_vec().unwrap(), &g.input_adjoint(&x, &w), 1e-5, 1e-5, &format!("forward {g:?}"));
        let grads = y.backward_with(&tensor(&gy, &g.x_shape())).unwrap();
        assert_close(&grads.get(&xt).unwrap().to_vec().unwrap(), &g.forward(&gy, &w), 1e-5, 1e-5, "input gradient");
        assert_close(
            &grads.get(&wt).unwrap().to_vec().unwrap(),
            &g.weight_adjoint(&gy, &x),
            1e-5,
            1e-4,
            "weight gradient",
        );
        let wf = wt.detach();
        let err = check_adjoint(|x| x.conv_transpose2d(&wf, None, options), &xt, 6).unwrap();
        assert!(err < 1e-5, "dot-product test {g:?}: {err}");
    }
}

fn config(name: &str) -> Vec<usize> {
    data_case(CASES, name).iter().map(|&v| v as usize).collect()
}

#[test]
fn conv2d_matches_pytorch() {
    for i in 0..7 {
        let c = config(&format!("conv_{i}_config"));
        let case = |what: &str| data_case(CASES, &format!("conv_{i}_{what}"));
        let g = Conv {
            n: c[0],
            cin: c[1],
            h: c[2],
            w: c[3],
            cout: c[4],
            groups: c[5],
            k: [c[6], c[7]],
            s: [c[8], c[9]],
            p: [c[10], c[11]],
            d: [c[12], c[13]],
        };
        let x = tensor(&case("x"), &g.x_shape()).with_grad();
        let w = tensor(&case("w"), &g.w_shape()).with_grad();
        let b = tensor(&case("b"), &[g.cout]).with_grad();
        let bias = (c[14] == 1).then_some(&b);
        let y = x.conv2d(&w, bias, g.options()).unwrap();
        assert_close(&y.to_vec().unwrap(), &case("y"), 1e-5, 1e-5, &format!("conv_{i} forward"));
        let grads = y.backward_with(&tensor(&case("dy"), &g.y_shape())).unwrap();
        assert_close(&grads.get(&x).unwrap().to_vec().unwrap(), &case("dx"), 1e-5, 1e-5, &format!("conv_{i} dx"));
        assert_close(&grads.get(&w).unwrap().to_vec().unwrap(), &case("dw"), 1e-5, 1e-5, &format!("conv_{i} dw"));
        if bias.is_some() {
            assert_close(&grads.get(&b).unwrap().to_vec().unwrap(), &case("db"), 1e-5, 1e-5, &format!("conv_{i} db"));
        }
    }
}

#[test]
fn conv_transpose2d_matches_pytorch() {
    for i in 0..4 {
        let c = config(&format!("convt_{i}_config"));
        let case = |what: &str| data_case(CASES, &format!("convt_{i}_{what}"));
        let [n, cin, h, w, cout, groups, ky, kx] = [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]];
        let options = ConvOptions {
            stride: [c[8], c[9]],
            padding: [c[10], c[11]],
            output_padding: [c[12], c[13]],
            dilation: [c[14], c[15]],
            groups,
        };
        let x = tensor(&case("x"), &[n, cin, h, w]).with_grad();
        let wt = tensor(&case("w"), &[cin, cout / groups, ky, kx]).with_grad();
        let b = tensor(&case("b"), &[cout]).with_grad();
        let bias = (c[16] == 1).then_some(&b);
        let y = x.conv_transpose2d(&wt, bias, options).unwrap();
        let want = case("y");
        assert_eq!(y.numel(), want.len(), "convt_{i} shape {:?}", y.shape());
        assert_close(&y.to_vec().unwrap(), &want, 1e-5, 1e-5, &format!("convt_{i} forward"));
        let grads = y.backward_with(&tensor(&case("dy"), y.shape())).unwrap();
        assert_close(&grads.get(&x).unwrap().to_vec().unwrap(), &case("dx"), 1e-5, 1e-5, &format!("convt_{i} dx"));
        assert_close(&grads.get(&wt).unwrap().to_vec().unwrap(), &case("dw"), 1e-5, 1e-5, &format!("convt_{i} dw"));
        if bias.is_some() {
            assert_close(&grads.get(&b).unwrap().to_vec().unwrap(), &case("db"), 1e-5, 1e-5, &format!("convt_{i} db"));
        }
    }
}

#[test]
fn gradients_are_bitwise_identical_across_contexts() {
    let run = || {
        let ctx = Context::new().unwrap();
        let x = Tensor::rand_uniform(&ctx, &[2, 8, 33, 40], 0.0, 1.0, 1).unwrap().with_grad();
        let w = Tensor::rand_normal(&ctx, &[8, 4, 3, 3], 0.0, 0.3, 2).unwrap().with_grad();
        let b = Tensor::zeros(&ctx, &[8]).unwrap().with_grad();
        let options = ConvOptions { padding: [1, 1], stride: [2, 1], groups: 2, ..ConvOptions::default() };
        let y = x.conv2d(&w, Some(&b), options).unwrap();
        let grads = y.square().unwrap().mean().unwrap().backward().unwrap();
        let (gx, gw, gb) = (grads.get(&x).unwrap(), grads.get(&w).unwrap(), grads.get(&b).unwrap());
        bits(&[&y, gx, gw, gb])
    };
    assert_eq!(run(), run());
}

#[test]
fn bad_input_gives_errors() {
    let ctx = ctx();
    let x = Tensor::zeros(&ctx, &[1, 4, 8, 8]).unwrap();
    let w = Tensor::zeros(&ctx, &[6, 2, 3, 3]).unwrap();
    let opts = |groups| ConvOptions { groups, ..ConvOptions::default() };
    // Groups must divide both channel counts; the weight must match them.
    assert!(matches!(x.conv2d(&w, None, opts(3)), Err(Error::InvalidArgument { name: "groups", .. })));
    assert!(matches!(x.conv2d(&w, None, opts(1)), Err(Error::ShapeMismatch { .. })));
    assert!(x.conv2d(&w, None, opts(2)).is_ok());
    let bias = Tensor::zeros(&ctx, &[5]).unwrap();
    assert!(matches!(x.conv2d(&w, Some(&bias), opts(2)), Err(Error::ShapeMismatch { .. })));
    let zero_stride = ConvOptions { stride: [0, 1], groups: 2, ..ConvOptions::default() };
    assert!(matches!(x.conv2d(&w, None, zero_stride), Err(Error::InvalidArgument { .. })));
    let huge = ConvOptions { dilation: [usize::MAX, 1], groups: 2, ..ConvOptions::default() };
    assert!(matches!(x.conv2d(&w, None, huge), Err(Error::InvalidArgument { .. })));
    let huge = ConvOptions { padding: [usize::MAX / 2, 0], ..ConvOptions::default() };
    assert!(matches!(
        x.conv_transpose2d(&Tensor::zeros(&ctx, &[4, 3, 3, 3]).unwrap(), None, huge),
        Err(Error::InvalidArgument { .. })
    ));
    // A kernel larger than the padded input.
    let big = Tensor::zeros(&ctx, &[1, 4, 9, 9]).unwrap();
    assert!(matches!(x.conv2d(&big, None, ConvOptions::default()), Err(Error::InvalidArgument { .. })));
    assert!(matches!(
        x.conv2d(&Tensor::zeros(&ctx, &[6, 4, 3]).unwrap(), None, opts(1)),
        Err(Error::InvalidShape { .. })
    ));
    let too_wide = Tensor::zeros(&ctx, &[1, 4, 1, 65]).unwrap();
    assert!(matches!(
        x.conv2d(&too_wide, None, ConvOptions { padding: [0, 40], ..opts(1) }),
        Err(Error::InvalidArgument { .. })
    ));
    // The transpose: output padding must be below the stride or the dilation.
    let wt = Tensor::zeros(&ctx, &[4, 3, 3, 3]).unwrap();
    let bad = ConvOptions { stride: [2, 2], output_padding: [2, 0], ..ConvOptions::default() };
    assert!(matches!(x.conv_transpose2d(&wt, None, bad), Err(Error::InvalidArgument { name: "output_padding", .. })));
    assert!(matches!(
        x.conv2d(&w, None, ConvOptions { output_padding: [1, 0], ..opts(2) }),
        Err(Error::InvalidArgument { .. })
    ));
    let ok = ConvOptions { stride: [2, 2], output_padding: [1, 1], ..ConvOptions::default() };
    assert_eq!(x.conv_transpose2d(&wt, None, ok).unwrap().shape(), &[1, 3, 18, 18]);
    assert!(matches!(x.conv_transpose2d(&w, None, ConvOptions::default()), Err(Error::ShapeMismatch { .. })));
}
