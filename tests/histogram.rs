//! Soft histograms, joint histograms, equalisation and histogram matching:
//! f64 references (exact erf, every bin a kernel reaches), their own
//! central differences, the GPU's forward and gradients against them, the
//! hard histogram as the bandwidth shrinks, Kornia's equalize on the
//! bundled photos, determinism, bounded outputs at degenerate images and
//! typed errors.

mod support;

use pixgrad::ops::histogram::{ClaheOptions, DensityKernel, HistogramOptions};
use pixgrad::{Error, Tensor};
use support::{Rng, assert_within, bits, check_directional, ctx, fd_check, to_f32, to_f64};

/// erf in f64: its Taylor series below 3, the continued fraction of erfc above.
fn erf(x: f64) -> f64 {
    let a = x.abs();
    let value = if a < 3.0 {
        let (mut term, mut sum, mut n) = (a, a, 0.0);
        while term.abs() > 1e-17 * sum.abs() {
            n += 1.0;
            term *= -a * a / n;
            sum += term / (2.0 * n + 1.0);
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        let mut fraction = 0.0;
        for k in (1..80).rev() {
            fraction = (k as f64 / 2.0) / (a + fraction);
        }
        1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + fraction)
    };
    value.copysign(x)
}

#[derive(Clone, Copy, Debug)]
struct Bins {
    first: f64,
    spacing: f64,
    count: usize,
    bandwidth: f64,
    kernel: DensityKernel,
}

impl Bins {
    fn of(options: &HistogramOptions) -> Bins {
        let spacing = f64::from(options.range[1] - options.range[0]) / (options.bins - 1) as f64;
        Bins {
            first: f64::from(options.range[0]),
            spacing: f64::from(options.range[1] - options.range[0]) / (options.bins - 1) as f64,
            count: options.bins,
            bandwidth: options.bandwidth.map_or(spacing, f64::from),
            kernel: options.kernel,
        }
    }

    fn edge(&self, b: usize) -> f64 {
        self.first + (b as f64 - 0.5) * self.spacing
    }

    /// S(t) and K(t).
    fn kernel(&self, t: f64) -> (f64, f64) {
        let bw = self.bandwidth;
        match self.kernel {
            DensityKernel::Gaussian => (
                0.5 * (1.0 + erf(t / (bw * 2f64.sqrt()))),
                (-0.5 * (t / bw).powi(2)).exp() / (bw * (2.0 * std::f64::consts::PI).sqrt()),
            ),
            DensityKernel::Triangular => {
                let u = (t / bw).clamp(-1.0, 1.0);
                let s = if u <= 0.0 { 0.5 * (1.0 + u).powi(2) } else { 1.0 - 0.5 * (1.0 - u).powi(2) };
                (s, (1.0 - u.abs()) / bw)
            }
        }
    }

    /// The bins within 8 bandwidths (the rest get below 1e-15).
    fn near(&self, x: f64) -> std::ops::RangeInclusive<usize> {
        let r = 8.0 * self.bandwidth;
        let at = |v: f64| ((v - self.first) / self.spacing + 0.5).floor().clamp(0.0, (self.count - 1) as f64) as usize;
        at(x - r)..=at(x + r)
    }

    /// The mass x puts in bin b and its slope.
    fn mass(&self, b: usize, x: f64) -> (f64, f64) {
        let (mut m, mut s) = (1.0, 0.0);
        if b + 1 < self.count {
            let (cdf, density) = self.kernel(self.edge(b + 1) - x);
            (m, s) = (cdf, -density);
        }
        if b > 0 {
            let (cdf, density) = self.kernel(self.edge(b) - x);
            (m, s) = (m - cdf, s + density);
        }
        (m, s)
    }
}

/// One plane's soft histogram, weighted and normalised.
fn histogram_ref(values: &[f64], weights: Option<&[f64]>, bins: Bins) -> Vec<f64> {
    let mut h = vec![0.0; bins.count];
    let mut total = 0.0;
    for (i, &x) in values.iter().enumerate() {
        let w = weights.map_or(1.0, |w| w[i]);
        total += w;
        for b in bins.near(x) {
            h[b] += w * bins.mass(b, x).0;
        }
    }
    h.iter().map(|v| v / total.max(f64::MIN_POSITIVE)).collect()
}

fn histogram_vjp_ref(values: &[f64], weights: Option<&[f64]>, bins: Bins, g: &[f64]) -> Vec<f64> {
    let total: f64 = weights.map_or(values.len() as f64, |w| w.iter().sum());
    let total = total.max(f64::MIN_POSITIVE);
    values
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let w = weights.map_or(1.0, |w| w[i]) / total;
            w * bins.near(x).map(|b| g[b] * bins.mass(b, x).1).sum::<f64>()
        })
        .collect()
}

fn joint_ref(a: &[f64], b: &[f64], bins: Bins) -> Vec<f64> {
    joint_ref_weighted(a, b, None, bins)
}

fn joint_ref_weighted(a: &[f64], b: &[f64], weights: Option<&[f64]>, bins: Bins) -> Vec<f64> {
    let n = bins.count;
    let total: f64 = weights.map_or(a.len() as f64, |w| w.iter().sum());
    let mut h = vec![0.0; n * n];
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let w = weights.map_or(1.0, |w| w[i]) / total;
        let columns: Vec<(usize, f64)> = bins.near(y).map(|c| (c, bins.mass(c, y).0)).collect();
        for r in bins.near(x) {
            let row = w * bins.mass(r, x).0;
            for &(c, mass) in &columns {
                h[r * n + c] += row * mass;
            }
        }
    }
    h
}

/// H(X), H(Y), H(X, Y) of a joint histogram, `−Σ p log(p + 1e-10)`.
fn entropies_ref(joint: &[f64], n: usize) -> [f64; 3] {
    let entropy = |p: &mut dyn Iterator<Item = f64>| -p.map(|v| v * (v + 1e-10).ln()).sum::<f64>();
    let px = (0..n).map(|r| (0..n).map(|c| joint[r * n + c]).sum::<f64>());
    let py = (0..n).map(|c| (0..n).map(|r| joint[r * n + c]).sum::<f64>());
    [entropy(&mut px.into_iter()), entropy(&mut py.into_iter()), entropy(&mut joint.iter().copied())]
}

fn joint_vjp_ref(a: &[f64], b: &[f64], bins: Bins, g: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = bins.count;
    let p = a.len() as f64;
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let (mut ga, mut gb) = (0.0, 0.0);
            for r in bins.near(x) {
                for c in bins.near(y) {
                    let ((mr, sr), (mc, sc)) = (bins.mass(r, x), bins.mass(c, y));
                    ga += g[r * n + c] * sr * mc / p;
                    gb += g[r * n + c] * mr * sc / p;
                }
            }
            (ga, gb)
        })
        .unzip()
}

/// The equalising map of one plane: G / (G + U) through its histogram.
fn equalize_ref(values: &[f64], bins: Bins) -> Vec<f64> {
    let h = histogram_ref(values, None, bins);
    let total: f64 = h.iter().sum();
    values
        .iter()
        .map(|&x| {
            let (mut below, mut above) = (0.0, 0.0);
            for (b, &hb) in h.iter().enumerate() {
                if b + 1 < bins.count {
                    below += hb * bins.kernel(x - bins.edge(b + 1)).0;
                }
                if b > 0 {
                    above += hb * bins.kernel(bins.edge(b) - x).0;
                }
            }
            if below + above > 1e-6 * total { below / (below + above) } else { x }
        })
        .collect()
}

/// Histogram matching of one plane to a reference plane.
fn matching_ref(values: &[f64], reference: &[f64], bins: Bins) -> Vec<f64> {
    let h = histogram_ref(reference, None, bins);
    let mut centre = Vec::with_capacity(bins.count);
    let mut cum = 0.0;
    for &hb in &h {
        centre.push(cum + hb / 2.0);
        cum += hb;
    }
    equalize_ref(values, bins)
        .iter()
        .map(|&u| {
            let m = u * cum;
            if m <= centre[0] {
                return bins.first;
            }
            if m >= centre[bins.count - 1] {
                return bins.first + (bins.count - 1) as f64 * bins.spacing;
            }
            let lo = centre.iter().rposition(|&c| c <= m).unwrap();
            bins.first + (lo as f64 + (m - centre[lo]) / (centre[lo + 1] - centre[lo])) * bins.spacing
        })
        .collect()
}

/// Random values in [0, 1] with planted ones: 0, 1, 8-bit levels, values
/// on bin edges and outside the range.
fn test_values(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut v = rng.vec(n, 0.0, 1.0);
    let planted = [0.0, 1.0, 0.5, 1.0 / 255.0, 128.0 / 255.0, 0.5 / 255.0, -0.02, 1.03, 0.25, 0.75];
    for (i, &p) in planted.iter().enumerate() {
        v[i * 7 % n] = p as f32 as f64;
    }
    v
}

fn plane(values: &[f64], p: usize, pixels: usize) -> &[f64] {
    &values[p * pixels..(p + 1) * pixels]
}

#[test]
fn histogram_references_pass_finite_differences() {
    let mut rng = Rng::new(5);
    let values = test_values(&mut rng, 40);
    let weights = rng.vec(40, 0.0, 1.0);
    for options in [
        HistogramOptions { bins: 12, ..Default::default() },
        HistogramOptions { bins: 9, range: [-0.2, 1.3], bandwidth: Some(0.07), kernel: DensityKernel::Triangular },
    ] {
        let bins = Bins::of(&options);
        let err = fd_check(
            |x| histogram_ref(x, Some(&weights), bins),
            |x, g| histogram_vjp_ref(x, Some(&weights), bins, g),
            &values,
            1,
        );
        assert!(err < 1e-7, "histogram {options:?}: {err}");
        let other: Vec<f64> = values.iter().map(|v| (v * 3.0).sin().abs()).collect();
        let both = [values.clone(), other.clone()].concat();
        let split = |x: &[f64]| (x[..40].to_vec(), x[40..].to_vec());
        let err = fd_check(
            |x| {
                let (a, b) = split(x);
                joint_ref(&a, &b, bins)
            },
            |x, g| {
                let (a, b) = split(x);
                let (ga, gb) = joint_vjp_ref(&a, &b, bins, g);
                [ga, gb].concat()
            },
            &both,
            2,
        );
        assert!(err < 1e-7, "joint {options:?}: {err}");
    }
}

/// Forward and gradient against the reference at a photo-like size,
/// Gaussian and triangular, masked and not, several bin counts and ranges.
#[test]
fn histograms_and_gradients_match_the_reference() {
    let mut rng = Rng::new(9);
    let cases = [
        ([1, 3, 257, 300], HistogramOptions::default(), false),
        (
            [2, 2, 61, 67],
            HistogramOptions { bins: 37, range: [-0.2, 1.3], bandwidth: Some(0.05), kernel: DensityKernel::Triangular },
            true,
        ),
        ([2, 1, 64, 64], HistogramOptions { bins: 64, bandwidth: Some(0.003), ..Default::default() }, true),
    ];
    for (shape, options, masked) in cases {
        let [n, c, h, w] = shape;
        let pixels = h * w;
        let values = test_values(&mut rng, n * c * pixels);
        let mask = rng.vec(n * pixels, -0.5, 1.0).iter().map(|v| v.max(0.0)).collect::<Vec<f64>>();
        let x = Tensor::from_slice(&ctx(), &to_f32(&values), &shape).unwrap().with_grad();
        let mask_t = Tensor::from_slice(&ctx(), &to_f32(&mask), &[n, 1, h, w]).unwrap();
        let hist = x.histogram(&options, masked.then_some(&mask_t)).unwrap();
        assert_eq!(hist.shape(), &[n, c, options.bins]);
        let g = rng.vec(n * c * options.bins, -1.0, 1.0);
        let grads = hist.backward_with(&Tensor::from_slice(&ctx(), &to_f32(&g), hist.shape()).unwrap()).unwrap();
        let got = hist.to_vec().unwrap();
        let gx = grads.get(&x).unwrap().to_vec().unwrap();
        let bins = Bins::of(&options);
        for p in 0..n * c {
            let weights = masked.then(|| plane(&mask, p / c, pixels));
            let want = histogram_ref(plane(&values, p, pixels), weights, bins);
            let what = format!("{shape:?} {options:?} plane {p}");
            assert_within(&got[p * bins.count..(p + 1) * bins.count], &want, 2e-5, &what);
            let gp = &g[p * bins.count..(p + 1) * bins.count];
            let want = histogram_vjp_ref(plane(&values, p, pixels), weights, bins, gp);
            assert_within(&gx[p * pixels..(p + 1) * pixels], &want, 1e-4, &format!("{what} gradient"));
        }
    }
}

/// 8-bit levels with a bandwidth far below the spacing: the hard counts.
#[test]
fn a_vanishing_bandwidth_gives_the_hard_histogram() {
    let photo = photo("coffee.png");
    let [_, c, h, w] = photo.shape().try_into().unwrap();
    let options = HistogramOptions { bandwidth: Some(1e-4), ..Default::default() };
    let hist = photo.histogram(&options, None).unwrap().to_vec().unwrap();
    let levels = photo.to_vec().unwrap();
    for p in 0..c {
        let mut counts = vec![0.0; 256];
        for &v in &levels[p * h * w..(p + 1) * h * w] {
            counts[(v * 255.0).round() as usize] += 1.0 / (h * w) as f64;
        }
        assert_within(&hist[p * 256..(p + 1) * 256], &counts, 1e-5, &format!("channel {p}"));
    }
}

#[test]
fn joint_histograms_and_gradients_match_the_reference() {
    let mut rng = Rng::new(13);
    let (h, w) = (73, 91);
    let a = test_values(&mut rng, 2 * h * w);
    // The second image a non-linear function of the first, plus noise.
    let b: Vec<f64> = a.iter().map(|v| ((1.0 - v * v) + rng.uniform(-0.05, 0.05)) as f32 as f64).collect();
    for options in [
        HistogramOptions { bins: 32, ..Default::default() },
        HistogramOptions { bins: 64, bandwidth: Some(0.01), kernel: DensityKernel::Triangular, ..Default::default() },
    ] {
        let xa = Tensor::from_slice(&ctx(), &to_f32(&a), &[2, 1, h, w]).unwrap().with_grad();
        let xb = Tensor::from_slice(&ctx(), &to_f32(&b), &[2, 1, h, w]).unwrap().with_grad();
        let joint = xa.histogram2d(&xb, &options, None).unwrap();
        let n = options.bins;
        assert_eq!(joint.shape(), &[2, 1, n, n]);
        let g = rng.vec(2 * n * n, -1.0, 1.0);
        let grads = joint.backward_with(&Tensor::from_slice(&ctx(), &to_f32(&g), joint.shape()).unwrap()).unwrap();
        let (got, ga, gb) = (
            joint.to_vec().unwrap(),
            grads.get(&xa).unwrap().to_vec().unwrap(),
            grads.get(&xb).unwrap().to_vec().unwrap(),
        );
        let bins = Bins::of(&options);
        for p in 0..2 {
            let (pa, pb) = (plane(&a, p, h * w), plane(&b, p, h * w));
            assert_within(&got[p * n * n..(p + 1) * n * n], &joint_ref(pa, pb, bins), 2e-5, "joint");
            let (wa, wb) = joint_vjp_ref(pa, pb, bins, &g[p * n * n..(p + 1) * n * n]);
            assert_within(&ga[p * h * w..(p + 1) * h * w], &wa, 1e-4, "joint gradient, first");
            assert_within(&gb[p * h * w..(p + 1) * h * w], &wb, 1e-4, "joint gradient, second");
        }
    }
}

#[test]
fn equalize_matches_the_reference_and_its_derivatives() {
    let mut rng = Rng::new(17);
    let (h, w) = (23, 29);
    // A skewed distribution, as photos have.
    let values: Vec<f64> = test_values(&mut rng, 2 * h * w).iter().map(|v| (v * v) as f32 as f64).collect();
    for options in [
        HistogramOptions { bins: 64, ..Default::default() },
        HistogramOptions { bins: 48, bandwidth: Some(0.04), kernel: DensityKernel::Triangular, ..Default::default() },
    ] {
        let bins = Bins::of(&options);
        let per_plane =
            |x: &[f64], f: &dyn Fn(&[f64]) -> Vec<f64>| -> Vec<f64> { x.chunks(h * w).flat_map(f).collect() };
        check_directional(
            &format!("equalize {options:?}"),
            &values,
            [1, 2, h, w],
            |x| x.equalize(&options).unwrap(),
            |x| per_plane(x, &|p| equalize_ref(p, bins)),
            2e-3,
        );
        // Dense everywhere: where the reference has (almost) no mass between
        // two centres the slope is floored (the rustdoc's bound), not exact.
        let reference: Vec<f64> =
            rng.vec(2 * 31 * 17, 0.0, 1.0).iter().map(|v| (0.3 * v + 0.7 * v.sqrt()) as f32 as f64).collect();
        let reference_t = Tensor::from_slice(&ctx(), &to_f32(&reference), &[1, 2, 31, 17]).unwrap();
        check_directional(
            &format!("histogram_matching {options:?}"),
            &values,
            [1, 2, h, w],
            |x| x.histogram_matching(&reference_t, &options).unwrap(),
            |x| {
                x.chunks(h * w)
                    .enumerate()
                    .flat_map(|(p, xs)| matching_ref(xs, &reference[p * 31 * 17..(p + 1) * 31 * 17], bins))
                    .collect()
            },
            2e-3,
        );
    }
}

/// CLAHE of one plane `[h, w]`: tile histograms in counts over the image
/// reflected at its end, clipped and redistributed, each pixel through the
/// four tiles around it (Kornia's blend).
fn clahe_ref(values: &[f64], [h, w]: [usize; 2], options: &ClaheOptions) -> Vec<f64> {
    clahe_ref_at(values, [h, w], options, &(0..h * w).collect::<Vec<_>>())
}

/// [`clahe_ref`] at some pixels only.
fn clahe_ref_at(values: &[f64], [h, w]: [usize; 2], options: &ClaheOptions, pixels_at: &[usize]) -> Vec<f64> {
    let bins = Bins::of(&options.histogram);
    let [gy, gx] = options.grid;
    let (th, tw) = (h.div_ceil(gy), w.div_ceil(gx));
    let reflect = |i: usize, n: usize| if i < n { i } else { 2 * (n - 1) - i };
    let pixels = (th * tw) as f64;
    let axis = |p: usize, size: usize, tiles: usize| {
        let y = (p as f64 - (size as f64 - 1.0) / 2.0) / size as f64;
        let below = y.floor();
        let last = (tiles - 1) as f64;
        let weight = if y < 0.0 || y > last { 0.0 } else { (y - below).clamp(0.0, 1.0) };
        (below.clamp(0.0, last) as usize, (below + 1.0).clamp(0.0, last) as usize, weight)
    };
    // Only the tiles the pixels interpolate between.
    let mut needed = vec![false; gy * gx];
    for &i in pixels_at {
        let ((y0, y1, _), (x0, x1, _)) = (axis(i / w, th, gy), axis(i % w, tw, gx));
        for t in [y0 * gx + x0, y0 * gx + x1, y1 * gx + x0, y1 * gx + x1] {
            needed[t] = true;
        }
    }
    let mut hists = vec![vec![0.0; bins.count]; gy * gx];
    for (t, hist) in hists.iter_mut().enumerate().filter(|(t, _)| needed[*t]) {
        let (ty, tx) = (t / gx, t % gx);
        for py in ty * th..(ty + 1) * th {
            for px in tx * tw..(tx + 1) * tw {
                let v = values[reflect(py, h) * w + reflect(px, w)];
                for b in bins.near(v) {
                    hist[b] += bins.mass(b, v).0;
                }
            }
        }
        if options.clip_limit > 0.0 {
            let limit = (f64::from(options.clip_limit) * pixels / bins.count as f64).floor().max(1.0);
            hist.iter_mut().for_each(|v| *v = v.min(limit));
            let spread = (pixels - hist.iter().sum::<f64>()) / bins.count as f64;
            hist.iter_mut().for_each(|v| *v += spread);
        }
    }
    let tile_map = |t: usize, v: f64| {
        let hist = &hists[t];
        let total: f64 = hist.iter().sum();
        let above: f64 = (1..bins.count).map(|b| hist[b] * bins.kernel(bins.edge(b) - v).0).sum();
        1.0 - above / total
    };
    pixels_at
        .iter()
        .map(|&i| {
            let v = values[i];
            let (y0, y1, wy) = axis(i / w, th, gy);
            let (x0, x1, wx) = axis(i % w, tw, gx);
            let top = (1.0 - wx) * tile_map(y0 * gx + x0, v) + wx * tile_map(y0 * gx + x1, v);
            let bottom = (1.0 - wx) * tile_map(y1 * gx + x0, v) + wx * tile_map(y1 * gx + x1, v);
            (1.0 - wy) * top + wy * bottom
        })
        .collect()
}

#[test]
fn clahe_matches_the_reference_and_its_derivatives() {
    let mut rng = Rng::new(29);
    let (h, w) = (37, 45);
    let values: Vec<f64> = test_values(&mut rng, 2 * h * w).iter().map(|v| (v * v) as f32 as f64).collect();
    for options in [
        ClaheOptions { clip_limit: 2.0, grid: [3, 4], histogram: HistogramOptions { bins: 32, ..Default::default() } },
        ClaheOptions {
            clip_limit: 0.0,
            grid: [5, 2],
            histogram: HistogramOptions {
                bins: 24,
                bandwidth: Some(0.05),
                kernel: DensityKernel::Triangular,
                ..Default::default()
            },
        },
        ClaheOptions { clip_limit: 40.0, grid: [2, 2], histogram: HistogramOptions { bins: 64, ..Default::default() } },
    ] {
        check_directional(
            &format!("clahe {options:?}"),
            &values,
            [1, 2, h, w],
            |x| x.equalize_clahe(&options).unwrap(),
            |x| x.chunks(h * w).flat_map(|p| clahe_ref(p, [h, w], &options)).collect(),
            2e-3,
        );
    }
}

/// Mutual information and its normalised form: against the f64 reference
/// (with and without a mask), both images' directional derivatives, and
/// what registration across modalities needs of them.
#[test]
fn mutual_information_matches_the_reference() {
    let mut rng = Rng::new(37);
    let (h, w) = (61, 67);
    let a = test_values(&mut rng, 2 * h * w);
    // An inverted, non-linearly recoloured copy with noise, as another modality.
    let b: Vec<f64> = a.iter().map(|v| ((1.0 - v).powi(2) + rng.uniform(-0.03, 0.03)) as f32 as f64).collect();
    let mask: Vec<f64> = (0..2 * h * w).map(|i| if (i / w) % h < h / 2 || i % 3 == 0 { 1.0 } else { 0.0 }).collect();
    let options = HistogramOptions { bins: 32, ..Default::default() };
    let bins = Bins::of(&options);
    let planes = |x: &[f64], y: &[f64], weights: Option<&[f64]>, normalized: bool| -> Vec<f64> {
        (0..2)
            .map(|p| {
                let r = p * h * w..(p + 1) * h * w;
                let joint = joint_ref_weighted(&x[r.clone()], &y[r.clone()], weights.map(|m| &m[r]), bins);
                let [hx, hy, hxy] = entropies_ref(&joint, bins.count);
                if normalized { (hx + hy) / hxy } else { hx + hy - hxy }
            })
            .collect()
    };
    let ctx = ctx();
    let tensor = |v: &[f64]| Tensor::from_slice(&ctx, &to_f32(v), &[2, 1, h, w]).unwrap();
    let (ta, tb, tmask) = (tensor(&a), tensor(&b), tensor(&mask));
    for normalized in [false, true] {
        for masked in [false, true] {
            let m = masked.then_some(&tmask);
            let what = format!("normalized {normalized}, masked {masked}");
            let gpu = |x: &Tensor, y: &Tensor| {
                if normalized {
                    x.normalized_mutual_information(y, &options, m).unwrap()
                } else {
                    x.mutual_information(y, &options, m).unwrap()
                }
            };
            let weights = masked.then_some(&mask[..]);
            check_directional(
                &format!("{what}, first"),
                &a,
                [2, 1, h, w],
                |x| gpu(x, &tb),
                |x| planes(x, &b, weights, normalized),
                2e-3,
            );
            check_directional(
                &format!("{what}, second"),
                &b,
                [2, 1, h, w],
                |y| gpu(&ta, y),
                |y| planes(&a, y, weights, normalized),
                2e-3,
            );
        }
    }
    // Degenerate inputs stay finite: constant images with a narrow kernel (one
    // joint bin) and an empty mask give NMI 1 and MI 0; a huge bandwidth is
    // accepted.
    let constant = Tensor::full(&ctx, &[2, 1, h, w], 0.5).unwrap();
    let narrow = HistogramOptions { bins: 32, bandwidth: Some(1e-5), ..Default::default() };
    let empty = Tensor::zeros(&ctx, &[2, 1, h, w]).unwrap();
    for (x, m, options) in [(&constant, None, &narrow), (&ta, Some(&empty), &options)] {
        let nmi = x.normalized_mutual_information(x, options, m).unwrap().to_vec().unwrap();
        let mi = x.mutual_information(x, options, m).unwrap().to_vec().unwrap();
        assert!(nmi.iter().all(|v| (v - 1.0).abs() < 1e-4) && mi.iter().all(|v| v.abs() < 1e-4), "{nmi:?} {mi:?}");
    }
    let huge = HistogramOptions { bins: 16, bandwidth: Some(1e30), ..Default::default() };
    assert!(ta.mutual_information(&tb, &huge, None).unwrap().to_vec().unwrap().iter().all(|v| v.is_finite()));
    // The recoloured copy shares far more information than noise does.
    let noise = Tensor::rand_uniform(&ctx, &[2, 1, h, w], 0.0, 1.0, 8).unwrap();
    let with_copy = ta.mutual_information(&tb, &options, None).unwrap().to_vec().unwrap();
    let with_noise = ta.mutual_information(&noise, &options, None).unwrap().to_vec().unwrap();
    assert!(with_copy.iter().zip(&with_noise).all(|(c, n)| *c > 1.0 && *n < 0.1), "{with_copy:?} vs {with_noise:?}");
}

/// Photo sizes and batches: CLAHE at 2048×1531 (odd tiles) against the
/// reference at sampled pixels near two opposite corners; a batch whose partial sums take two passes
/// (a 64-bin joint histogram of seven 512² planes) equal to each plane alone.
#[test]
fn large_images_and_batches_match_single_planes() {
    let ctx = ctx();
    let mut rng = Rng::new(31);
    let (h, w) = (2048, 1531);
    let values: Vec<f64> = rng.vec(h * w, 0.0, 1.0).iter().map(|v| (v * v) as f32 as f64).collect();
    let img = Tensor::from_slice(&ctx, &to_f32(&values), &[1, 1, h, w]).unwrap();
    let options = ClaheOptions::default();
    let got = img.equalize_clahe(&options).unwrap().to_vec().unwrap();
    // 150 pixels in a 300×250 window at each of two opposite corners (odd
    // tiles and the reflected last ones; ~18 of 64 tiles for the reference
    // to build), and the four corners.
    let mut near = |y0: usize, x0: usize| (y0 + rng.next_u64() as usize % 300) * w + x0 + rng.next_u64() as usize % 250;
    let at: Vec<usize> = (0..300)
        .map(|k| if k % 2 == 0 { near(0, 0) } else { near(h - 300, w - 250) })
        .chain([0, w - 1, h * w - w, h * w - 1])
        .collect();
    let want = clahe_ref_at(&values, [h, w], &options, &at);
    let got_at: Vec<f32> = at.iter().map(|&i| got[i]).collect();
    assert_within(&got_at, &want, 2e-5, "clahe 2048x1531");

    let joint_and_gradient = |x: &Tensor| {
        let x = x.detach().with_grad();
        let y = x.histogram2d(&x.sqrt().unwrap(), &HistogramOptions { bins: 64, ..Default::default() }, None).unwrap();
        let g = y.square().unwrap().sum().unwrap().backward().unwrap();
        (y.to_vec().unwrap(), g.get(&x).unwrap().to_vec().unwrap())
    };
    let (n, side) = (3, 512);
    let batch = Tensor::rand_uniform(&ctx, &[n, 1, side, side], 0.0, 1.0, 5).unwrap();
    let (values, grads) = joint_and_gradient(&batch);
    let (mut one_values, mut one_grads) = (Vec::new(), Vec::new());
    for plane in batch.to_vec().unwrap().chunks(side * side) {
        let (v, g) = joint_and_gradient(&Tensor::from_slice(&ctx, plane, &[1, 1, side, side]).unwrap());
        one_values.extend(to_f64(&v));
        one_grads.extend(to_f64(&g));
    }
    assert_within(&values, &one_values, 1e-5, "joint histograms of a batch against its planes");
    assert_within(&grads, &one_grads, 1e-4, "their gradients");
}

/// Against Kornia's equalize_clahe (tests/data/clahe_cases.py, 1500 sampled
/// pixels a photo: even tiles, odd tiles, a low limit on a coarse grid).
#[test]
fn clahe_is_close_to_kornia_on_the_photos() {
    let cases = include_str!("data/clahe_cases.txt");
    for (name, photo_name) in [("astronaut", "astronaut.png"), ("chelsea", "chelsea.png"), ("coffee", "coffee.png")] {
        let settings = support::data_case(cases, &format!("{name}.settings"));
        let at = support::data_case(cases, &format!("{name}.at"));
        let kornia = support::data_case(cases, &format!("{name}.out"));
        let img = photo(photo_name);
        for (bandwidth, mean_bound, max_bound) in [(Some(1e-4), 0.002, 0.015), (None, 0.02, 0.25)] {
            let options = ClaheOptions {
                clip_limit: settings[0] as f32,
                grid: [settings[1] as usize, settings[2] as usize],
                histogram: HistogramOptions { bandwidth, ..Default::default() },
            };
            let ours = img.equalize_clahe(&options).unwrap().to_vec().unwrap();
            let diffs: Vec<f64> =
                at.iter().zip(&kornia).map(|(&i, &k)| (f64::from(ours[i as usize]) - k).abs()).collect();
            let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
            let largest = diffs.iter().fold(0f64, |m, &d| m.max(d));
            println!("clahe {name} bandwidth {bandwidth:?}: mean |ours - Kornia| {mean:.5}, largest {largest:.4}");
            assert!(mean < mean_bound && largest < max_bound, "{name} {bandwidth:?}: mean {mean}, largest {largest}");
        }
    }
}

fn photo(name: &str) -> Tensor {
    let img = image::open(format!("{}/assets/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    Tensor::from_image(&ctx(), &image::DynamicImage::ImageRgb8(img.to_rgb8())).unwrap()
}

/// Against Kornia's equalize (PIL's lookup tables, tests/data/equalize_cases.py)
/// on the bundled photos: with a vanishing bandwidth within the stated mean
/// and largest difference, and with the default bandwidth close.
#[test]
fn equalize_is_close_to_kornia_on_the_photos() {
    let cases = include_str!("data/equalize_cases.txt");
    for name in ["astronaut.png", "coffee.png", "chelsea.png", "camera.png"] {
        let img = photo(name);
        let levels = img.to_vec().unwrap();
        let pixels = levels.len() / 3;
        for (bandwidth, mean_bound, max_bound) in [(Some(1e-4), 0.005, 0.015), (None, 0.008, 0.05)] {
            let options = HistogramOptions { bandwidth, ..Default::default() };
            let ours = img.equalize(&options).unwrap().to_vec().unwrap();
            let (mut sum, mut largest) = (0.0, 0f64);
            for c in 0..3 {
                let table = support::data_case(cases, &format!("{name}.{c}"));
                for i in c * pixels..(c + 1) * pixels {
                    let kornia = table[(levels[i] * 255.0).round() as usize] / 255.0;
                    let d = (f64::from(ours[i]) - kornia).abs();
                    sum += d;
                    largest = largest.max(d);
                }
            }
            let mean = sum / levels.len() as f64;
            println!("{name} bandwidth {bandwidth:?}: mean |ours - Kornia| {mean:.5}, largest {largest:.4}");
            assert!(mean < mean_bound && largest < max_bound, "{name} {bandwidth:?}: mean {mean}, largest {largest}");
        }
    }
}

/// Degenerate images (constant, black, white, two levels) and photos:
/// finite outputs and gradients, in [0, 1]; a constant plane unchanged.
#[test]
fn degenerate_images_give_finite_results() {
    let ctx = ctx();
    let (h, w) = (16, 16);
    let two_levels: Vec<f32> = (0..h * w).map(|i| if i % 3 == 0 { 0.2 } else { 0.8 }).collect();
    let images = [
        Tensor::full(&ctx, &[1, 1, h, w], 0.4).unwrap(),
        Tensor::zeros(&ctx, &[1, 1, h, w]).unwrap(),
        Tensor::ones(&ctx, &[1, 1, h, w]).unwrap(),
        Tensor::from_slice(&ctx, &two_levels, &[1, 1, h, w]).unwrap(),
    ];
    let reference = Tensor::rand_uniform(&ctx, &[1, 1, 9, 9], 0.0, 1.0, 3).unwrap();
    for kernel in [DensityKernel::Gaussian, DensityKernel::Triangular] {
        let options = HistogramOptions { kernel, ..Default::default() };
        for (i, img) in images.iter().enumerate() {
            let x = img.detach().with_grad();
            for (what, y) in [
                ("equalize", x.equalize(&options).unwrap()),
                ("matching", x.histogram_matching(&reference, &options).unwrap()),
                (
                    "clahe",
                    x.equalize_clahe(&ClaheOptions { grid: [3, 3], histogram: options, ..Default::default() }).unwrap(),
                ),
                ("histogram", x.histogram(&options, None).unwrap()),
            ] {
                let values = y.to_vec().unwrap();
                assert!(values.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)), "{what} image {i}");
                let grads = y.sum().unwrap().backward().unwrap();
                let g = grads.get(&x).unwrap().to_vec().unwrap();
                assert!(g.iter().all(|v| v.is_finite()), "{what} image {i}: gradient");
            }
            if i < 3 {
                // Kornia returns a constant plane unchanged; so does a kernel
                // narrower than a bin, while a wider one gives the middle rank.
                let narrow = HistogramOptions { bandwidth: Some(1e-4), ..options };
                assert_eq!(x.equalize(&narrow).unwrap().to_vec().unwrap(), img.to_vec().unwrap(), "constant {i}");
                let wide = x.equalize(&options).unwrap().to_vec().unwrap();
                assert!(wide.iter().all(|v| (v - 0.5).abs() < 1e-5), "constant {i}: {}", wide[0]);
            }
        }
    }
}

/// Everything twice from scratch: bit for bit.
#[test]
fn gradients_are_deterministic() {
    let img = photo("chelsea.png");
    let reference = photo("coffee.png");
    let run = || {
        let x = img.detach().with_grad();
        let options = HistogramOptions::default();
        let joint_options = HistogramOptions { bins: 48, ..Default::default() };
        let loss = x
            .histogram(&options, None)
            .unwrap()
            .square()
            .unwrap()
            .sum()
            .unwrap()
            .add(&x.histogram2d(&x.square().unwrap(), &joint_options, None).unwrap().square().unwrap().sum().unwrap())
            .unwrap()
            .add(&x.equalize(&options).unwrap().square().unwrap().mean().unwrap())
            .unwrap()
            .add(&x.histogram_matching(&reference, &options).unwrap().mean().unwrap())
            .unwrap()
            .add(&x.equalize_clahe(&ClaheOptions::default()).unwrap().square().unwrap().mean().unwrap())
            .unwrap()
            .add(&x.mutual_information(&x.square().unwrap(), &joint_options, None).unwrap().sum().unwrap())
            .unwrap();
        let grads = loss.backward().unwrap();
        bits(&[&loss, grads.get(&x).unwrap()])
    };
    assert_eq!(run(), run());
}

#[test]
fn bad_input_is_a_typed_error() {
    let ctx = ctx();
    let img = Tensor::zeros(&ctx, &[1, 3, 8, 8]).unwrap();
    let bad_arg = |r: pixgrad::Result<Tensor>, what: &str| {
        assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{what}: {r:?}");
    };
    for bins in [0, 1, 257] {
        bad_arg(img.histogram(&HistogramOptions { bins, ..Default::default() }, None), "bins");
    }
    bad_arg(img.histogram2d(&img, &HistogramOptions { bins: 65, ..Default::default() }, None), "joint bins");
    for range in [[1.0, 0.0], [0.0, f32::NAN], [f32::NEG_INFINITY, 1.0]] {
        bad_arg(img.equalize(&HistogramOptions { range, ..Default::default() }), "range");
    }
    for bandwidth in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        bad_arg(img.histogram(&HistogramOptions { bandwidth: Some(bandwidth), ..Default::default() }, None), "bw");
    }
    let wrong_mask = Tensor::zeros(&ctx, &[1, 3, 8, 8]).unwrap();
    let options = HistogramOptions::default();
    assert!(matches!(img.histogram(&options, Some(&wrong_mask)), Err(Error::ShapeMismatch { .. })));
    let two_channels = Tensor::zeros(&ctx, &[1, 2, 8, 8]).unwrap();
    assert!(matches!(img.histogram_matching(&two_channels, &options), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(img.histogram2d(&two_channels, &options, None), Err(Error::ShapeMismatch { .. })));
    for (clip_limit, grid) in [(f32::NAN, [8, 8]), (-1.0, [8, 8]), (40.0, [0, 8]), (40.0, [8, 9]), (40.0, [8, 8])] {
        let options = ClaheOptions { clip_limit, grid, ..Default::default() };
        bad_arg(img.equalize_clahe(&options), &format!("clahe {clip_limit} {grid:?}"));
    }
    let flat = Tensor::zeros(&ctx, &[64]).unwrap();
    assert!(matches!(flat.equalize(&options), Err(Error::InvalidShape { .. })));
}
