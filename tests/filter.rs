//! Filters I: correlation against its f64 reference for every border mode,
//! kernel size parity and per-image kernels; finite differences of the
//! reference; dot-product tests; Gaussian sigma gradients; Sobel, Laplacian,
//! box and unsharp mask; imageproc parity; determinism; bad input.

mod support;

use pixgrad::check::check_adjoint;
use pixgrad::ops::filter::{Correlation, correlate_forward, correlate_image_adjoint, correlate_kernel_adjoint};
use pixgrad::ops::filter::{get_gaussian_kernel1d, get_gaussian_kernel2d};
use pixgrad::{BorderType, Context, Error, GradientMode, Tensor};
use support::*;

const BORDERS: [BorderType; 4] =
    [BorderType::Constant(0.3), BorderType::Reflect, BorderType::Replicate, BorderType::Circular];

// ---- f64 reference ----

/// A correlation `[N, C, H, W]` ⋆ `[N or 1, bank, ky, kx]` → `[N, C, bank, H, W]`.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    shape: [usize; 4],
    ksize: [usize; 2],
    bank: usize,
    per_item: bool,
    border: BorderType,
}

impl Geometry {
    fn kernel_len(&self) -> usize {
        self.bank * self.ksize[0] * self.ksize[1] * if self.per_item { self.shape[0] } else { 1 }
    }

    fn out_len(&self) -> usize {
        numel(&self.shape) * self.bank
    }

    /// Visits every (output index, kernel index, input index or None) triple.
    fn for_each_tap(&self, mut f: impl FnMut(usize, usize, Option<usize>)) {
        let [n, c, h, w] = self.shape;
        let [ky, kx] = self.ksize;
        let (ay, ax) = (((ky - 1) / 2) as isize, ((kx - 1) / 2) as isize);
        for b in 0..n {
            let kbase = if self.per_item { b * self.bank * ky * kx } else { 0 };
            for ch in 0..c {
                let plane = (b * c + ch) * h * w;
                for e in 0..self.bank {
                    let out_plane = ((b * c + ch) * self.bank + e) * h * w;
                    for y in 0..h {
                        for x in 0..w {
                            for i in 0..ky {
                                for j in 0..kx {
                                    let sy = border_index(y as isize + i as isize - ay, h, self.border);
                                    let sx = border_index(x as isize + j as isize - ax, w, self.border);
                                    let src = sy.zip(sx).map(|(sy, sx)| plane + sy * w + sx);
                                    f(out_plane + y * w + x, kbase + (e * ky + i) * kx + j, src);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn value(&self) -> f64 {
        if let BorderType::Constant(v) = self.border { v as f64 } else { 0.0 }
    }

    fn forward(&self, img: &[f64], kernel: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.out_len()];
        self.for_each_tap(|o, k, s| out[o] += kernel[k] * s.map_or(self.value(), |s| img[s]));
        out
    }

    /// (image gradient, kernel gradient) for the output gradient `g`, by scattering.
    fn vjp(&self, img: &[f64], kernel: &[f64], g: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let mut gi = vec![0.0; img.len()];
        let mut gk = vec![0.0; kernel.len()];
        self.for_each_tap(|o, k, s| {
            gk[k] += g[o] * s.map_or(self.value(), |s| img[s]);
            if let Some(s) = s {
                gi[s] += kernel[k] * g[o];
            }
        });
        (gi, gk)
    }
}

/// Kornia's Gaussian taps for one sigma, in f64.
fn gaussian_ref(size: usize, sigma: f64) -> Vec<f64> {
    let e: Vec<f64> =
        (0..size).map(|k| (-((k as f64 - (size / 2) as f64).powi(2)) / (2.0 * sigma * sigma)).exp()).collect();
    let total: f64 = e.iter().sum();
    e.iter().map(|v| v / total).collect()
}

/// The separable Gaussian blur in f64: along x, then along y.
fn gaussian_blur_ref(
    img: &[f64],
    shape: [usize; 4],
    ksize: [usize; 2],
    sigma: [f64; 2],
    border: BorderType,
) -> Vec<f64> {
    let along_x = Geometry { shape, ksize: [1, ksize[1]], bank: 1, per_item: false, border };
    let along_y = Geometry { shape, ksize: [ksize[0], 1], bank: 1, per_item: false, border };
    let tmp = along_x.forward(img, &gaussian_ref(ksize[1], sigma[1]));
    along_y.forward(&tmp, &gaussian_ref(ksize[0], sigma[0]))
}

fn geometries() -> Vec<Geometry> {
    let mut all = Vec::new();
    for border in BORDERS {
        for (ksize, per_item) in [([3, 3], false), ([4, 5], true), ([7, 2], false), ([1, 5], true), ([6, 1], true)] {
            all.push(Geometry { shape: [2, 3, 9, 11], ksize, bank: 1, per_item, border });
        }
        // Line kernels: lines longer than 8 taps (wide windows), 8 kernel lines (no pairs).
        for (ksize, per_item) in [([1, 13], false), ([12, 1], true), ([1, 16], true), ([8, 3], false)] {
            all.push(Geometry { shape: [2, 3, 9, 11], ksize, bank: 1, per_item, border });
        }
        // Wide kernels on a small image: every border pixel folds several padded ones.
        all.push(Geometry { shape: [1, 2, 6, 7], ksize: [9, 9], bank: 1, per_item: false, border });
        all.push(Geometry { shape: [1, 2, 3, 4], ksize: [1, 7], bank: 1, per_item: false, border });
        all.push(Geometry { shape: [2, 1, 7, 6], ksize: [3, 3], bank: 2, per_item: true, border });
        // Widths a multiple of 4: rows go out four outputs at a time (pairs,
        // single lines, a bank of two, an odd number of lines), column
        // kernels take four columns per thread.
        for (ksize, bank) in [([7, 7], 1), ([3, 3], 2), ([1, 5], 1), ([8, 3], 1), ([5, 1], 1), ([6, 1], 2)] {
            all.push(Geometry { shape: [2, 2, 7, 12], ksize, bank, per_item: bank == 2, border });
        }
    }
    all
}

/// Runs a correlation through the public raw encoders: (output, image gradient, kernel gradient).
fn gpu_correlate(geo: &Geometry, img: &[f64], kernel: &[f64], g: &[f64]) -> [Vec<f32>; 3] {
    let ctx = ctx();
    let c = Correlation {
        batch: geo.shape[0],
        channels: geo.shape[1],
        height: geo.shape[2],
        width: geo.shape[3],
        kernel_size: geo.ksize,
        bank: geo.bank,
        per_item: geo.per_item,
        border: geo.border,
    };
    let x = tensor(img, &[img.len()]);
    let k = tensor(kernel, &[kernel.len()]);
    let g = tensor(g, &[g.len()]);
    let y = Tensor::zeros(&ctx, &[geo.out_len()]).unwrap();
    let gx = Tensor::zeros(&ctx, &[img.len()]).unwrap();
    let gk = Tensor::zeros(&ctx, &[kernel.len()]).unwrap();
    correlate_forward(&ctx, None, &c, x.view(), k.view(), y.view()).unwrap();
    correlate_image_adjoint(&ctx, None, &c, k.view(), g.view(), gx.view()).unwrap();
    correlate_kernel_adjoint(&ctx, None, &c, x.view(), g.view(), gk.view()).unwrap();
    [y.to_vec().unwrap(), gx.to_vec().unwrap(), gk.to_vec().unwrap()]
}

// ---- tests ----

#[test]
fn reference_adjoints_pass_finite_differences() {
    for (i, geo) in geometries().into_iter().enumerate() {
        let mut rng = Rng::new(i as u64);
        let n_img = numel(&geo.shape);
        let x = rng.vec(n_img + geo.kernel_len(), -1.0, 1.0);
        let f = |x: &[f64]| geo.forward(&x[..n_img], &x[n_img..]);
        let vjp = |x: &[f64], g: &[f64]| {
            let (mut gi, gk) = geo.vjp(&x[..n_img], &x[n_img..], g);
            gi.extend(gk);
            gi
        };
        let err = fd_check(f, vjp, &x, 100 + i as u64);
        assert!(err < 1e-7, "{geo:?}: {err}");
    }
}

#[test]
fn raw_correlation_kernels_match_the_reference() {
    for (i, geo) in geometries().into_iter().enumerate() {
        let mut rng = Rng::new(10 + i as u64);
        let img = rng.vec(numel(&geo.shape), 0.0, 1.0);
        let kernel = rng.vec(geo.kernel_len(), -1.0, 1.0);
        let g = rng.vec(geo.out_len(), -1.0, 1.0);
        let [y, gx, gk] = gpu_correlate(&geo, &img, &kernel, &g);
        let (want_gx, want_gk) = geo.vjp(&img, &kernel, &g);
        assert_close(&y, &geo.forward(&img, &kernel), 1e-5, 1e-5, &format!("forward {geo:?}"));
        assert_close(&gx, &want_gx, 1e-5, 1e-5, &format!("image gradient {geo:?}"));
        assert_close(&gk, &want_gk, 1e-5, 2e-4, &format!("kernel gradient {geo:?}"));
    }
}

#[test]
fn filter2d_and_its_gradients_match_the_reference() {
    // Each kernel shape with one border mode in turn (the raw kernels above
    // take every pair; each pair compiles its own pipelines, ~1 s apiece on
    // a cold lavapipe).
    let per_border = geometries().len() / BORDERS.len();
    let taken =
        geometries().into_iter().enumerate().filter(|(j, g)| g.bank == 1 && (j % per_border) % 4 == j / per_border);
    for (i, geo) in taken.map(|(_, g)| g).enumerate() {
        let mut rng = Rng::new(30 + i as u64);
        let [ky, kx] = geo.ksize;
        let kb = if geo.per_item { geo.shape[0] } else { 1 };
        let img_v = rng.vec(numel(&geo.shape), 0.0, 1.0);
        let kernel_v = rng.vec(geo.kernel_len(), -1.0, 1.0);
        let seed_v = rng.vec(geo.out_len(), -1.0, 1.0);
        let img = tensor(&img_v, &geo.shape).with_grad();
        let kernel = tensor(&kernel_v, &[kb, ky, kx]).with_grad();
        let out = img.filter2d(&kernel, geo.border, false).unwrap();
        assert_eq!(out.shape(), &geo.shape);
        assert_close(&out.to_vec().unwrap(), &geo.forward(&img_v, &kernel_v), 1e-5, 1e-5, "forward");
        let grads = out.backward_with(&tensor(&seed_v, &geo.shape)).unwrap();
        let (gi, gk) = geo.vjp(&img_v, &kernel_v, &seed_v);
        assert_close(&grads.get(&img).unwrap().to_vec().unwrap(), &gi, 1e-5, 1e-5, &format!("image {geo:?}"));
        assert_close(&grads.get(&kernel).unwrap().to_vec().unwrap(), &gk, 1e-5, 2e-4, &format!("kernel {geo:?}"));
    }
}

#[test]
fn a_mean_loss_gives_the_gradients_of_its_expanded_seed() {
    // The mean's gradient reaches the adjoints as one stored value: the line
    // adjoint reads it directly, the 2-D adjoints expand it first.
    let mut rng = Rng::new(8);
    let shape = [2, 3, 10, 13];
    let img = tensor(&rng.vec(numel(&shape), 0.0, 1.0), &shape).with_grad();
    for ksize in [[1, 5], [9, 1], [1, 11], [3, 3]] {
        let kernel = tensor(&rng.vec(ksize[0] * ksize[1], -1.0, 1.0), &[1, ksize[0], ksize[1]]).with_grad();
        let out = || img.filter2d(&kernel, BorderType::Reflect, false).unwrap();
        let by_mean = out().mean().unwrap().backward().unwrap();
        let seed = Tensor::full(&ctx(), &shape, 1.0 / numel(&shape) as f32).unwrap();
        let by_seed = out().backward_with(&seed).unwrap();
        for t in [&img, &kernel] {
            let (a, b) = (by_mean.get(t).unwrap(), by_seed.get(t).unwrap());
            assert_eq!(bits(&[a]), bits(&[b]), "{ksize:?}");
        }
    }
    // Sobel: the magnitude's adjoint reads it, the bank of two its result.
    let by_mean = img.sobel(true, 1e-6).unwrap().mean().unwrap().backward().unwrap();
    let seed = Tensor::full(&ctx(), &shape, 1.0 / numel(&shape) as f32).unwrap();
    let by_seed = img.sobel(true, 1e-6).unwrap().backward_with(&seed).unwrap();
    assert_eq!(bits(&[by_mean.get(&img).unwrap()]), bits(&[by_seed.get(&img).unwrap()]), "sobel");
}

#[test]
fn normalized_kernels_divide_by_their_absolute_sum() {
    let mut rng = Rng::new(3);
    let img_v = rng.vec(2 * 2 * 8 * 9, 0.0, 1.0);
    let kernel_v = rng.vec(2 * 3 * 3, -1.0, 1.0);
    let img = tensor(&img_v, &[2, 2, 8, 9]);
    let kernel = tensor(&kernel_v, &[2, 3, 3]);
    let got = img.filter2d(&kernel, BorderType::Reflect, true).unwrap().to_vec().unwrap();
    let normalized: Vec<f64> = kernel_v
        .chunks(9)
        .flat_map(|k| {
            let s: f64 = k.iter().map(|v| v.abs()).sum();
            k.iter().map(move |v| v / s)
        })
        .collect();
    let geo = Geometry { shape: [2, 2, 8, 9], ksize: [3, 3], bank: 1, per_item: true, border: BorderType::Reflect };
    assert_close(&got, &geo.forward(&img_v, &normalized), 1e-5, 1e-5, "normalized");
    // The normalisation is differentiable too: compare with finite differences on the GPU.
    let kernel = kernel.with_grad();
    let check = pixgrad::check::check_gradients(
        |k| img.filter2d(&k[0], BorderType::Reflect, true)?.square()?.sum(),
        &[kernel],
        &pixgrad::check::CheckOptions::default(),
    )
    .unwrap();
    assert!(check.passed(), "{check:?}");
}

#[test]
fn image_adjoints_pass_the_dot_product_test() {
    let mut rng = Rng::new(5);
    let borders = [BorderType::Constant(0.0), BorderType::Reflect, BorderType::Replicate, BorderType::Circular];
    let shapes = [([2, 3, 16, 19], [5, 4]), ([1, 2, 8, 9], [7, 7]), ([1, 1, 5, 4], [3, 9]), ([1, 3, 9, 16], [7, 7])];
    for (b, border) in borders.into_iter().enumerate() {
        // Two of the shapes per border, every shape twice over the four.
        for &(shape, ksize) in [&shapes[b % 4], &shapes[(b + 1) % 4]] {
            if border == BorderType::Reflect && (ksize[1] / 2 >= shape[3] || ksize[0] / 2 >= shape[2]) {
                continue;
            }
            let img = tensor(&rng.vec(numel(&shape), 0.0, 1.0), &shape);
            let kernel = tensor(&rng.vec(ksize[0] * ksize[1], -1.0, 1.0), &[1, ksize[0], ksize[1]]);
            let err = check_adjoint(|x| x.filter2d(&kernel, border, false), &img, 1).unwrap();
            assert!(err < 5e-5, "image {border:?} {shape:?} {ksize:?}: {err}");
            let err = check_adjoint(|k| img.filter2d(k, border, false), &kernel, 2).unwrap();
            assert!(err < 5e-5, "kernel {border:?} {shape:?} {ksize:?}: {err}");
        }
        let img = tensor(&rng.vec(2 * 3 * 12 * 10, 0.0, 1.0), &[2, 3, 12, 10]);
        let kx = tensor(&rng.vec(5, -1.0, 1.0), &[1, 5]);
        let ky = tensor(&rng.vec(2 * 3, -1.0, 1.0), &[2, 3]);
        let checks = [
            check_adjoint(|x| x.filter2d_separable(&kx, &ky, border, false), &img, 3).unwrap(),
            check_adjoint(|x| x.gaussian_blur2d([5, 7], (1.2, 2.0), border), &img, 4).unwrap(),
            check_adjoint(|x| x.box_blur([3, 4], border), &img, 5).unwrap(),
            check_adjoint(|x| x.laplacian(5, border, true), &img, 6).unwrap(),
        ];
        assert!(checks.iter().all(|&e| e < 5e-5), "{border:?}: {checks:?}");
    }
    let img = tensor(&rng.vec(2 * 3 * 12 * 10, 0.0, 1.0), &[2, 3, 12, 10]);
    for mode in [GradientMode::Sobel, GradientMode::Diff] {
        let err = check_adjoint(|x| x.spatial_gradient(mode, true), &img, 7).unwrap();
        assert!(err < 1e-5, "{mode:?}: {err}");
    }
}

#[test]
fn gaussian_kernels_match_kornia_and_their_sigma_gradient_is_exact() {
    let ctx = ctx();
    let sigmas = [0.5, 1.0, 2.0, 3.7];
    let sigma = Tensor::from_slice(&ctx, &to_f32(&sigmas), &[4]).unwrap().with_grad();
    let k = get_gaussian_kernel1d(&sigma, 9).unwrap();
    let want: Vec<f64> = sigmas.iter().flat_map(|&s| gaussian_ref(9, s)).collect();
    assert_close(&k.to_vec().unwrap(), &want, 1e-6, 1e-7, "kernels");
    // d/dσ of ⟨kernel, u⟩ against f64 central differences of the reference.
    let mut rng = Rng::new(9);
    let u = rng.vec(36, -1.0, 1.0);
    let grads = k.backward_with(&tensor(&u, &[4, 9])).unwrap();
    let got = grads.get(&sigma).unwrap().to_vec().unwrap();
    let want: Vec<f64> = sigmas
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let at = |s: f64| dot(&gaussian_ref(9, s), &u[i * 9..(i + 1) * 9]);
            (at(s + 1e-6) - at(s - 1e-6)) / 2e-6
        })
        .collect();
    assert_close(&got, &want, 1e-4, 1e-6, "sigma gradient");
    // 2-D kernels: outer products, one per row of sigmas.
    let sigma2 = Tensor::from_slice(&ctx, &[1.0, 2.0, 0.7, 0.7], &[2, 2]).unwrap();
    let k2 = get_gaussian_kernel2d(&sigma2, [3, 5]).unwrap().to_vec().unwrap();
    let (ry, rx) = (gaussian_ref(3, 1.0), gaussian_ref(5, 2.0));
    let want: Vec<f64> = (0..15).map(|i| ry[i / 5] * rx[i % 5]).collect();
    assert_close(&k2[..15], &want, 1e-6, 1e-7, "2-D kernel");
}

#[test]
fn gaussian_blur_matches_the_reference_with_sigma_and_image_gradients() {
    let shape = [2, 3, 14, 17];
    let mut rng = Rng::new(11);
    let img_v = rng.vec(numel(&shape), 0.0, 1.0);
    let u = rng.vec(numel(&shape), -1.0, 1.0);
    let sigmas = [[1.3, 0.8], [2.1, 1.6]];
    for border in BORDERS {
        let img = tensor(&img_v, &shape).with_grad();
        let sigma = tensor(&sigmas.concat(), &[2, 2]).with_grad();
        let out = img.gaussian_blur2d([5, 7], &sigma, border).unwrap();
        let out_v = out.to_vec().unwrap();
        let grads = out.backward_with(&tensor(&u, &shape)).unwrap();
        let got_sigma = grads.get(&sigma).unwrap().to_vec().unwrap();
        let plane = numel(&shape) / 2;
        for (b, s) in sigmas.iter().enumerate() {
            let item = |img: &[f64], s: [f64; 2]| {
                gaussian_blur_ref(&img[b * plane..(b + 1) * plane], [1, 3, 14, 17], [5, 7], s, border)
            };
            let want = item(&img_v, *s);
            assert_close(&out_v[b * plane..(b + 1) * plane], &want, 1e-5, 1e-5, &format!("{border:?} blur"));
            // Sigma gradients against f64 central differences of the reference.
            for axis in 0..2 {
                let at = |d: f64| {
                    let mut moved = *s;
                    moved[axis] += d;
                    dot(&item(&img_v, moved), &u[b * plane..(b + 1) * plane])
                };
                let want = (at(1e-6) - at(-1e-6)) / 2e-6;
                let got = got_sigma[b * 2 + axis] as f64;
                assert!((got - want).abs() <= 1e-3 * want.abs() + 1e-4, "{border:?} σ[{b},{axis}]: {got} vs {want}");
            }
        }
        // The image gradient is the adjoint of the blur: correlate u back through the reference.
        let gi = grads.get(&img).unwrap().to_vec().unwrap();
        let mut want = Vec::new();
        for (b, s) in sigmas.iter().enumerate() {
            let gx = |k: [usize; 2], sg: f64| {
                let geo = Geometry { shape: [1, 3, 14, 17], ksize: k, bank: 1, per_item: false, border };
                (geo, gaussian_ref(k[0].max(k[1]), sg))
            };
            let (gy_geo, ky) = gx([5, 1], s[0]);
            let (gx_geo, kx) = gx([1, 7], s[1]);
            let (g_tmp, _) = gy_geo.vjp(&vec![0.0; plane], &ky, &u[b * plane..(b + 1) * plane]);
            let (g_img, _) = gx_geo.vjp(&vec![0.0; plane], &kx, &g_tmp);
            want.extend(g_img);
        }
        assert_close(&gi, &want, 1e-5, 1e-5, &format!("{border:?} image gradient"));
    }
}

#[test]
fn sobel_spatial_gradient_and_laplacian_match_kornia() {
    let shape = [2, 3, 10, 13];
    let mut rng = Rng::new(13);
    let img_v = rng.vec(numel(&shape), 0.0, 1.0);
    let img = tensor(&img_v, &shape).with_grad();
    let sobel_x = [-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0].map(|v: f64| v / 8.0);
    let sobel_y: Vec<f64> = (0..9).map(|i| sobel_x[(i % 3) * 3 + i / 3]).collect();
    let bank: Vec<f64> = sobel_x.iter().chain(&sobel_y).copied().collect();
    let geo = Geometry { shape, ksize: [3, 3], bank: 2, per_item: false, border: BorderType::Replicate };
    let want_g = geo.forward(&img_v, &bank);
    let g = img.spatial_gradient(GradientMode::Sobel, true).unwrap();
    assert_eq!(g.shape(), &[2, 3, 2, 10, 13]);
    assert_close(&g.to_vec().unwrap(), &want_g, 1e-5, 1e-6, "spatial_gradient");
    // Sobel magnitude and its gradient: √(gx² + gy² + 1e-6).
    let pixels = 10 * 13;
    let magnitude: Vec<f64> = (0..numel(&shape))
        .map(|i| {
            let (plane, p) = (i / pixels, i % pixels);
            let (gx, gy) = (want_g[plane * 2 * pixels + p], want_g[(plane * 2 + 1) * pixels + p]);
            (gx * gx + gy * gy + 1e-6).sqrt()
        })
        .collect();
    let edges = img.sobel(true, 1e-6).unwrap();
    assert_close(&edges.to_vec().unwrap(), &magnitude, 1e-5, 1e-6, "sobel");
    let u = rng.vec(numel(&shape), -1.0, 1.0);
    let grads = edges.backward_with(&tensor(&u, &shape)).unwrap();
    let seed: Vec<f64> = (0..2 * numel(&shape))
        .map(|i| {
            let (plane, rest) = (i / (2 * pixels), i % (2 * pixels));
            let p = rest % pixels;
            u[plane * pixels + p] * want_g[i] / magnitude[plane * pixels + p]
        })
        .collect();
    let (want_gi, _) = geo.vjp(&img_v, &bank, &seed);
    assert_close(&grads.get(&img).unwrap().to_vec().unwrap(), &want_gi, 1e-4, 1e-5, "sobel gradient");
    // Laplacian: ones with centre 1 - k², divided by 2 (k² - 1).
    for k in [3usize, 5] {
        let mut kernel = vec![1.0; k * k];
        kernel[k * k / 2] = 1.0 - (k * k) as f64;
        let norm = 2.0 * (k * k - 1) as f64;
        let kernel: Vec<f64> = kernel.iter().map(|v| v / norm).collect();
        let geo = Geometry { shape, ksize: [k, k], bank: 1, per_item: false, border: BorderType::Reflect };
        let got = img.laplacian(k, BorderType::Reflect, true).unwrap().to_vec().unwrap();
        assert_close(&got, &geo.forward(&img_v, &kernel), 1e-5, 1e-6, "laplacian");
    }
}

#[test]
fn unsharp_mask_and_box_blur_match_the_reference() {
    let shape = [2, 1, 9, 12];
    let mut rng = Rng::new(17);
    let img_v = rng.vec(numel(&shape), 0.0, 1.0);
    let img = tensor(&img_v, &shape);
    let plane = 9 * 12;
    // Box blur: the mean over the window.
    let geo = Geometry { shape, ksize: [3, 5], bank: 1, per_item: false, border: BorderType::Replicate };
    let got = img.box_blur([3, 5], BorderType::Replicate).unwrap().to_vec().unwrap();
    assert_close(&got, &geo.forward(&img_v, &[1.0 / 15.0; 15]), 1e-5, 1e-6, "box_blur");
    // Unsharp mask with learnable amount and sigma: gradients against f64 differences.
    let amount = Tensor::from_slice(&ctx(), &[0.5, 2.0], &[2]).unwrap().with_grad();
    let sigma = Tensor::from_slice(&ctx(), &[1.1, 0.9], &[1, 2]).unwrap().with_grad();
    let out = img.unsharp_mask([5, 5], &sigma, &amount, BorderType::Reflect).unwrap();
    let u = rng.vec(numel(&shape), -1.0, 1.0);
    let reference = |amounts: [f64; 2], s: [f64; 2]| -> Vec<f64> {
        let blur = gaussian_blur_ref(&img_v, shape, [5, 5], s, BorderType::Reflect);
        (0..img_v.len()).map(|i| img_v[i] + amounts[i / plane] * (img_v[i] - blur[i])).collect()
    };
    assert_close(&out.to_vec().unwrap(), &reference([0.5, 2.0], [1.1, 0.9]), 1e-5, 1e-5, "unsharp");
    let grads = out.backward_with(&tensor(&u, &shape)).unwrap();
    let loss = |a: [f64; 2], s: [f64; 2]| dot(&reference(a, s), &u);
    let h = 1e-6;
    let d_amount = [
        (loss([0.5 + h, 2.0], [1.1, 0.9]) - loss([0.5 - h, 2.0], [1.1, 0.9])) / (2.0 * h),
        (loss([0.5, 2.0 + h], [1.1, 0.9]) - loss([0.5, 2.0 - h], [1.1, 0.9])) / (2.0 * h),
    ];
    let d_sigma = [
        (loss([0.5, 2.0], [1.1 + h, 0.9]) - loss([0.5, 2.0], [1.1 - h, 0.9])) / (2.0 * h),
        (loss([0.5, 2.0], [1.1, 0.9 + h]) - loss([0.5, 2.0], [1.1, 0.9 - h])) / (2.0 * h),
    ];
    assert_close(&grads.get(&amount).unwrap().to_vec().unwrap(), &d_amount, 1e-4, 1e-4, "amount");
    assert_close(&grads.get(&sigma).unwrap().to_vec().unwrap(), &d_sigma, 1e-3, 1e-4, "sigma");
}

#[test]
fn parity_with_imageproc() {
    use imageproc::filter::{filter_clamped, gaussian_blur_f32};
    use imageproc::kernel::Kernel;
    let ctx = ctx();
    let photo = image::open(format!("{}/assets/coffee.png", env!("CARGO_MANIFEST_DIR"))).unwrap().resize_exact(
        256,
        192,
        image::imageops::FilterType::Triangle,
    );
    let rgb = photo.to_rgb32f();
    let img = Tensor::from_image(&ctx, &image::DynamicImage::ImageRgb32F(rgb.clone())).unwrap();
    let at = |v: &[f32], x: u32, y: u32, c: usize| v[c * 256 * 192 + (y * 256 + x) as usize];
    let worst = |theirs: &image::Rgb32FImage, ours: &[f32]| {
        theirs
            .enumerate_pixels()
            .flat_map(|(x, y, p)| (0..3).map(move |c| (p[c] - at(ours, x, y, c)).abs()))
            .fold(0.0f32, f32::max)
    };
    // filter_clamped pads by continuity: our replicate border.
    let mut rng = Rng::new(19);
    let kernel_v = to_f32(&rng.vec(25, -0.2, 0.3));
    let theirs: image::Rgb32FImage = filter_clamped(&rgb, Kernel::new(&kernel_v, 5, 5));
    let kernel = Tensor::from_slice(&ctx, &kernel_v, &[1, 5, 5]).unwrap();
    let ours = img.filter2d(&kernel, BorderType::Replicate, false).unwrap().to_vec().unwrap();
    assert!(worst(&theirs, &ours) < 2e-6, "filter_clamped: {}", worst(&theirs, &ours));
    // Sobel through filter_clamped with the (unnormalised) Sobel kernel.
    let sobel_x = [-1.0f32, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0];
    let theirs: image::Rgb32FImage = filter_clamped(&rgb, Kernel::new(&sobel_x, 3, 3));
    let ours = img.spatial_gradient(GradientMode::Sobel, false).unwrap().to_vec().unwrap();
    let gx: Vec<f32> = ours.chunks(2 * 256 * 192).flat_map(|c| c[..256 * 192].to_vec()).collect();
    assert!(worst(&theirs, &gx) < 1e-5, "sobel: {}", worst(&theirs, &gx));
    // gaussian_blur_f32 truncates at ±2σ (radius ⌈2σ⌉) and replicates the border.
    for sigma in [1.0f32, 1.6] {
        let theirs = gaussian_blur_f32(&rgb, sigma);
        let size = 2 * (2.0 * sigma).ceil() as usize + 1;
        let ours = img.gaussian_blur2d([size, size], sigma, BorderType::Replicate).unwrap().to_vec().unwrap();
        assert!(worst(&theirs, &ours) < 2e-6, "gaussian σ {sigma}: {}", worst(&theirs, &ours));
    }
}

#[test]
fn filter_gradients_are_deterministic() {
    let run = || {
        let ctx = Context::new().unwrap();
        let img = Tensor::rand_uniform(&ctx, &[2, 3, 64, 80], 0.0, 1.0, 1).unwrap().with_grad();
        let kernel = Tensor::rand_normal(&ctx, &[2, 7, 7], 0.0, 0.2, 2).unwrap().with_grad();
        let sigma = Tensor::from_slice(&ctx, &[1.5, 2.0, 0.8, 1.1], &[2, 2]).unwrap().with_grad();
        let a = img.filter2d(&kernel, BorderType::Reflect, false).unwrap();
        let b = img.gaussian_blur2d([9, 9], &sigma, BorderType::Circular).unwrap();
        let c = img.sobel(true, 1e-6).unwrap();
        let loss = a.square().unwrap().mean().unwrap().add(&b.mul(&c).unwrap().mean().unwrap()).unwrap();
        let g = loss.backward().unwrap();
        bits(&[g.get(&img).unwrap(), g.get(&kernel).unwrap(), g.get(&sigma).unwrap()])
    };
    assert_eq!(run(), run());
}

#[test]
fn flat_and_extreme_inputs_give_finite_values_and_gradients() {
    let ctx = ctx();
    for value in [0.0f32, 1.0, 0.5] {
        let img = Tensor::full(&ctx, &[1, 3, 12, 12], value).unwrap().with_grad();
        let sigma = Tensor::from_slice(&ctx, &[0.0, 1e-20], &[1, 2]).unwrap().with_grad();
        let edges = img.sobel(true, 1e-6).unwrap();
        let blur = img.gaussian_blur2d([5, 5], &sigma, BorderType::Reflect).unwrap();
        // A zero sigma is the identity kernel; its gradient is 0.
        assert_eq!(blur.to_vec().unwrap(), vec![value; 3 * 144]);
        let loss = edges.sum().unwrap().add(&blur.square().unwrap().sum().unwrap()).unwrap();
        let grads = loss.backward().unwrap();
        for t in [grads.get(&img).unwrap(), grads.get(&sigma).unwrap()] {
            assert!(t.to_vec().unwrap().iter().all(|v| v.is_finite()), "{value}");
        }
        assert_eq!(grads.get(&sigma).unwrap().to_vec().unwrap(), vec![0.0, 0.0]);
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let ctx = ctx();
    let img = Tensor::rand_uniform(&ctx, &[2, 3, 6, 6], 0.0, 1.0, 1).unwrap();
    let k = |shape: &[usize]| Tensor::ones(&ctx, shape).unwrap();
    let invalid_argument = |r: pixgrad::Result<Tensor>, what: &str| {
        assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{what}: {r:?}");
    };
    // A kernel wider than reflect (or circular) padding allows.
    invalid_argument(img.filter2d(&k(&[1, 13, 3]), BorderType::Reflect, false), "reflect 13x3 on 6x6");
    invalid_argument(img.filter2d(&k(&[1, 3, 15]), BorderType::Circular, false), "circular 3x15 on 6x6");
    assert!(img.filter2d(&k(&[1, 13, 13]), BorderType::Replicate, false).is_ok());
    invalid_argument(img.filter2d(&k(&[1, 3, 3]), BorderType::Constant(f32::NAN), false), "NaN border");
    // Sigmas and kernel sizes.
    for sigma in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        invalid_argument(img.gaussian_blur2d([3, 3], sigma, BorderType::Reflect), "sigma");
    }
    invalid_argument(img.gaussian_blur2d([4, 3], 1.0, BorderType::Reflect), "even Gaussian");
    invalid_argument(img.laplacian(4, BorderType::Reflect, true), "even Laplacian");
    invalid_argument(img.box_blur([0, 3], BorderType::Reflect), "empty box");
    invalid_argument(img.sobel(true, 0.0), "eps");
    invalid_argument(img.unsharp_mask([3, 3], 1.0, f32::INFINITY, BorderType::Reflect), "amount");
    // Shapes.
    let mismatch = |r: pixgrad::Result<Tensor>, what: &str| {
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })), "{what}: {r:?}");
    };
    mismatch(img.filter2d(&k(&[3, 3, 3]), BorderType::Reflect, false), "kernel batch 3 vs 2");
    mismatch(img.filter2d(&k(&[3, 3]), BorderType::Reflect, false), "kernel rank");
    mismatch(img.gaussian_blur2d([3, 3], &k(&[3, 2]), BorderType::Reflect), "sigma batch");
    mismatch(img.unsharp_mask([3, 3], 1.0, &k(&[3]), BorderType::Reflect), "amount batch");
    let flat = Tensor::ones(&ctx, &[6, 6]).unwrap();
    assert!(matches!(flat.sobel(true, 1e-6), Err(Error::InvalidShape { .. })));
    assert!(matches!(
        img.filter2d_separable(&k(&[3]), &k(&[1, 3]), BorderType::Reflect, false),
        Err(Error::InvalidShape { .. })
    ));
}

/// `normalized` divides by the sum of the kernel's absolute values; an
/// all-zero kernel (Kornia: NaN everywhere) is left as it is: the output is
/// zero and the gradients finite (the kernel's is the plain correlation's).
#[test]
fn a_normalized_zero_kernel_gives_zeros_and_finite_gradients() {
    let ctx = ctx();
    let img = Tensor::rand_uniform(&ctx, &[2, 3, 9, 7], 0.0, 1.0, 3).unwrap().with_grad();
    let zero = Tensor::zeros(&ctx, &[1, 3, 3]).unwrap().with_grad();
    let out = img.filter2d(&zero, BorderType::Reflect, true).unwrap();
    assert!(out.to_vec().unwrap().iter().all(|&v| v == 0.0));
    let weights = Tensor::rand_uniform(&ctx, &[2, 3, 9, 7], -1.0, 1.0, 4).unwrap();
    let grads = out.mul(&weights).unwrap().sum().unwrap().backward().unwrap();
    let gk = grads.get(&zero).unwrap().to_vec().unwrap();
    let gx = grads.get(&img).unwrap().to_vec().unwrap();
    assert!(gx.iter().all(|&v| v == 0.0), "a zero kernel passes nothing back to the image");
    // The kernel's gradient is the unnormalised one: Σ weights · shifted image.
    let plain = img.detach().with_grad();
    let k = Tensor::zeros(&ctx, &[1, 3, 3]).unwrap().with_grad();
    let reference = plain.filter2d(&k, BorderType::Reflect, false).unwrap().mul(&weights).unwrap().sum().unwrap();
    let want = reference.backward().unwrap().get(&k).unwrap().to_vec().unwrap();
    assert_close(&gk, &to_f64(&want), 1e-6, 1e-6, "kernel gradient");
    // A non-zero kernel whose entries sum to zero is normalised as usual.
    let edge = Tensor::from_slice(&ctx, &[1.0, 0.0, -1.0], &[1, 1, 3]).unwrap();
    let half = Tensor::from_slice(&ctx, &[0.5, 0.0, -0.5], &[1, 1, 3]).unwrap();
    let (a, b) = (
        img.filter2d(&edge, BorderType::Reflect, true).unwrap(),
        img.filter2d(&half, BorderType::Reflect, false).unwrap(),
    );
    assert_eq!(a.to_vec().unwrap(), b.to_vec().unwrap());
}
