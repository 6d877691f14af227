//! Median and morphology: Kornia's outputs and gradients
//! (tests/data/filters2_cases.py), an f64 reference of the selection filters
//! passing finite differences, the GPU against it for every border mode
//! (the padded-gradient fold included), dot-product tests, determinism,
//! finiteness, bad input.

mod support;

use pixgrad::check::check_adjoint;
use pixgrad::ops::filter::{MAX_STRUCTURE_SIZE, MorphBorder, Structure};
use pixgrad::{BorderType, Context, Error, Tensor};
use support::*;

const CASES: &str = include_str!("data/filters2_cases.txt");
const BORDERS: [BorderType; 4] =
    [BorderType::Constant(0.25), BorderType::Reflect, BorderType::Replicate, BorderType::Circular];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Pick {
    Median,
    Max,
    Min,
}

/// The f64 reference: per output, the value and the input index it
/// selected (None: the constant border). `heights` `[ky·kx]` (−inf outside
/// the element) are read flipped for Max, as Kornia's dilation.
struct Selector {
    shape: [usize; 4],
    size: [usize; 2],
    origin: [usize; 2],
    border: BorderType,
    pick: Pick,
    heights: Vec<f64>,
}

impl Selector {
    fn run(&self, x: &[f64]) -> Vec<(f64, Option<usize>)> {
        let [n, c, h, w] = self.shape;
        let [ky, kx] = self.size;
        let mut out = Vec::with_capacity(x.len());
        for plane in 0..n * c {
            for y in 0..h {
                for xx in 0..w {
                    let taps: Vec<(f64, Option<usize>)> = (0..ky * kx)
                        .map(|t| {
                            let sy = border_index((y + t / kx) as isize - self.origin[0] as isize, h, self.border);
                            let sx = border_index((xx + t % kx) as isize - self.origin[1] as isize, w, self.border);
                            match (sy, sx) {
                                (Some(sy), Some(sx)) => {
                                    let at = plane * h * w + sy * w + sx;
                                    (x[at], Some(at))
                                }
                                _ => (if let BorderType::Constant(v) = self.border { v as f64 } else { 0.0 }, None),
                            }
                        })
                        .collect();
                    out.push(self.pick_one(&taps));
                }
            }
        }
        out
    }

    fn pick_one(&self, taps: &[(f64, Option<usize>)]) -> (f64, Option<usize>) {
        let k = taps.len();
        match self.pick {
            Pick::Median => {
                let mut order: Vec<usize> = (0..k).collect();
                order.sort_by(|&a, &b| taps[a].0.partial_cmp(&taps[b].0).unwrap().then(a.cmp(&b)));
                taps[order[(k - 1) / 2]]
            }
            Pick::Max | Pick::Min => {
                let mut best: Option<(f64, Option<usize>)> = None;
                for (t, &(v, at)) in taps.iter().enumerate() {
                    let candidate =
                        if self.pick == Pick::Max { v + self.heights[k - 1 - t] } else { v - self.heights[t] };
                    let better = match best {
                        None => true,
                        Some((b, _)) => {
                            (self.pick == Pick::Max && candidate > b) || (self.pick == Pick::Min && candidate < b)
                        }
                    };
                    if better {
                        best = Some((candidate, at));
                    }
                }
                best.unwrap()
            }
        }
    }

    fn forward(&self, x: &[f64]) -> Vec<f64> {
        self.run(x).into_iter().map(|(v, _)| v).collect()
    }

    fn adjoint(&self, x: &[f64], g: &[f64]) -> Vec<f64> {
        let mut gx = vec![0.0; x.len()];
        for (gi, (_, at)) in g.iter().zip(self.run(x)) {
            if let Some(at) = at {
                gx[at] += gi;
            }
        }
        gx
    }
}

fn flat(structure: &Structure) -> Vec<f64> {
    structure.mask().iter().map(|&m| if m { 0.0 } else { f64::NEG_INFINITY }).collect()
}

fn gpu(img: &Tensor, pick: Pick, size: [usize; 2], structure: &Structure, border: BorderType) -> Tensor {
    match pick {
        Pick::Median => img.median_blur(size, border),
        Pick::Max => img.dilation(structure, None, MorphBorder::Border(border)),
        Pick::Min => img.erosion(structure, None, MorphBorder::Border(border)),
    }
    .unwrap()
}

#[test]
fn reference_passes_finite_differences() {
    let mut rng = Rng::new(1);
    let shape = [1, 2, 6, 7];
    let x = rng.vec(numel(&shape), 0.0, 1.0);
    let structure = Structure::from_mask([3, 2], &[1.0, 0.0, 1.0, 1.0, 0.0, 1.0]).unwrap();
    for border in BORDERS {
        for (pick, size) in [(Pick::Median, [3, 3]), (Pick::Max, [3, 2]), (Pick::Min, [3, 2])] {
            let heights = if pick == Pick::Median { vec![0.0; 9] } else { flat(&structure) };
            let s = Selector { shape, size, origin: [size[0] / 2, size[1] / 2], border, pick, heights };
            let err = fd_check(|x| s.forward(x), |x, g| s.adjoint(x, g), &x, 2);
            assert!(err < 1e-6, "{pick:?} {border:?}: {err}");
        }
    }
}

/// Every border mode, odd and even windows, off-centre origins: forward,
/// gradient (through the padded grid and its fold) and, where the map is
/// linear (no constant border), the dot-product test.
#[test]
fn gpu_matches_the_reference_for_every_border() {
    let mut rng = Rng::new(3);
    let shape = [2, 2, 7, 9];
    let x = rng.vec(numel(&shape), 0.0, 1.0);
    let g = rng.vec(numel(&shape), -1.0, 1.0);
    let img = tensor(&x, &shape).with_grad();
    let cases = [
        (Pick::Median, [3, 3], Structure::square(3).unwrap()),
        (Pick::Median, [5, 3], Structure::rect(5, 3).unwrap()),
        (Pick::Max, [3, 3], Structure::cross(3).unwrap()),
        (Pick::Min, [3, 3], Structure::cross(3).unwrap()),
        (Pick::Max, [2, 4], Structure::rect(2, 4).unwrap().with_origin([1, 0]).unwrap()),
        (Pick::Min, [4, 3], Structure::from_mask([4, 3], &[1.0; 12]).unwrap().with_origin([3, 2]).unwrap()),
    ];
    for border in BORDERS {
        for (pick, size, structure) in &cases {
            let (pick, size) = (*pick, *size);
            let heights = if pick == Pick::Median { vec![0.0; size[0] * size[1]] } else { flat(structure) };
            let s = Selector { shape, size, origin: structure.origin(), border, pick, heights };
            let what = format!("{pick:?} {size:?} {border:?}");
            let out = gpu(&img, pick, size, structure, border);
            assert_close(&out.to_vec().unwrap(), &s.forward(&x), 0.0, 0.0, &what);
            let grads = out.backward_with(&tensor(&g, &shape)).unwrap();
            assert_close(&grads.get(&img).unwrap().to_vec().unwrap(), &s.adjoint(&x, &g), 1e-6, 1e-6, &what);
            if !matches!(border, BorderType::Constant(_)) {
                let err = check_adjoint(|x| Ok(gpu(x, pick, size, structure, border)), &img, 4).unwrap();
                assert!(err < 1e-5, "dot-product test {what}: {err}");
            }
        }
    }
}

#[test]
fn median_matches_kornia() {
    for i in 0..3 {
        let case = |what: &str| data_case(CASES, &format!("median_{i}_{what}"));
        let c: Vec<usize> = case("config").iter().map(|&v| v as usize).collect();
        let shape = [c[0], c[1], c[2], c[3]];
        let img = tensor(&case("x"), &shape).with_grad();
        let out = img.median_blur([c[4], c[5]], BorderType::Reflect).unwrap();
        assert_close(&out.to_vec().unwrap(), &case("y"), 0.0, 1e-9, &format!("median_{i}"));
        if i < 2 {
            let grads = out.backward_with(&tensor(&case("dy"), &shape)).unwrap();
            assert_close(
                &grads.get(&img).unwrap().to_vec().unwrap(),
                &case("dx"),
                1e-6,
                1e-6,
                &format!("median_{i} dx"),
            );
        }
    }
}

#[test]
fn morphology_matches_kornia() {
    let shape = [2, 2, 7, 9];
    let x = data_case(CASES, "morph_x");
    let dy = tensor(&data_case(CASES, "morph_dy"), &shape);
    for i in 0..2 {
        let case = |what: &str| data_case(CASES, &format!("morph_{i}_{what}"));
        let size = case("config");
        let size = [size[0] as usize, size[1] as usize];
        let mask: Vec<f32> = case("kernel").iter().map(|&v| v as f32).collect();
        let structure = Structure::from_mask(size, &mask).unwrap();
        let heights = tensor(&case("se"), &[size[0], size[1]]).with_grad();
        let heights = (i == 1).then_some(&heights);
        for op in ["dilation", "erosion", "opening", "closing", "gradient", "top_hat", "black_hat"] {
            let img = tensor(&x, &shape).with_grad();
            let b = MorphBorder::Geodesic;
            let out = match op {
                "dilation" => img.dilation(&structure, heights, b),
                "erosion" => img.erosion(&structure, heights, b),
                "opening" => img.opening(&structure, heights, b),
                "closing" => img.closing(&structure, heights, b),
                "gradient" => img.morphology_gradient(&structure, heights, b),
                "top_hat" => img.top_hat(&structure, heights, b),
                _ => img.black_hat(&structure, heights, b),
            }
            .unwrap();
            let what = format!("morph_{i} {op}");
            assert_close(&out.to_vec().unwrap(), &case(&format!("{op}_y")), 1e-6, 1e-6, &what);
            let grads = out.backward_with(&dy).unwrap();
            assert_close(&grads.get(&img).unwrap().to_vec().unwrap(), &case(&format!("{op}_dx")), 1e-6, 1e-6, &what);
            if let (Some(h), "dilation" | "erosion") = (heights, op) {
                let dse = grads.get(h).unwrap().to_vec().unwrap();
                assert_close(&dse, &case(&format!("{op}_dse")), 1e-5, 1e-5, &format!("{what} heights"));
            }
        }
    }
}

#[test]
fn gradients_are_bitwise_identical_across_contexts() {
    let run = || {
        let ctx = Context::new().unwrap();
        let img = Tensor::rand_uniform(&ctx, &[2, 3, 40, 37], 0.0, 1.0, 9).unwrap().with_grad();
        let heights = Tensor::rand_uniform(&ctx, &[3, 3], 0.0, 0.1, 2).unwrap().with_grad();
        let s = Structure::cross(3).unwrap();
        let a = img.median_blur([5, 5], BorderType::Reflect).unwrap();
        let b = a.closing(&s, Some(&heights), MorphBorder::Border(BorderType::Replicate)).unwrap();
        let grads = b.square().unwrap().mean().unwrap().backward().unwrap();
        bits(&[&b, grads.get(&img).unwrap(), grads.get(&heights).unwrap()])
    };
    assert_eq!(run(), run());
}

#[test]
fn outputs_and_gradients_are_finite_on_flat_and_extreme_images() {
    let ctx = ctx();
    for value in [0.0, 1.0] {
        let img = Tensor::full(&ctx, &[1, 1, 6, 6], value).unwrap().with_grad();
        let s = Structure::rect(3, 5).unwrap();
        let outs = [
            img.dilation(&s, None, MorphBorder::Geodesic).unwrap(),
            img.erosion(&s, None, MorphBorder::Geodesic).unwrap(),
            img.morphology_gradient(&s, None, MorphBorder::Geodesic).unwrap(),
            img.median_blur([3, 3], BorderType::Constant(0.0)).unwrap(),
        ];
        for (k, out) in outs.iter().enumerate() {
            assert!(out.to_vec().unwrap().iter().all(|v| v.is_finite()));
            let grads = out.sum().unwrap().backward().unwrap();
            let g = grads.get(&img).unwrap().to_vec().unwrap();
            assert!(g.iter().all(|v| v.is_finite()));
            if k < 2 {
                // A geodesic border never wins: every output routes its gradient to a pixel.
                assert_eq!(g.iter().sum::<f32>(), 36.0);
            }
        }
    }
}

#[test]
fn bad_input_gives_errors() {
    let ctx = ctx();
    let img = Tensor::zeros(&ctx, &[1, 1, 4, 4]).unwrap();
    let invalid = |r: pixgrad::Result<Tensor>| matches!(r, Err(Error::InvalidArgument { .. }));
    assert!(invalid(img.median_blur([2, 3], BorderType::Reflect)));
    assert!(invalid(img.median_blur([11, 9], BorderType::Replicate)));
    // Reflect-101 needs pads narrower than the image.
    assert!(invalid(img.median_blur([9, 1], BorderType::Reflect)));
    assert!(img.median_blur([9, 1], BorderType::Replicate).is_ok());
    assert!(invalid(img.median_blur([3, 3], BorderType::Constant(f32::NAN))));
    assert!(Structure::from_mask([2, 2], &[0.0; 4]).is_err());
    assert!(Structure::from_mask([2, 2], &[1.0; 3]).is_err());
    assert!(Structure::from_mask([2, 2], &[1.0, f32::NAN, 1.0, 1.0]).is_err());
    assert!(Structure::square(3).unwrap().with_origin([3, 0]).is_err());
    let heights = Tensor::zeros(&ctx, &[2, 3]).unwrap();
    let shape_err = img.dilation(&Structure::square(3).unwrap(), Some(&heights), MorphBorder::Geodesic);
    assert!(matches!(shape_err, Err(Error::ShapeMismatch { .. })));
    // Element sizes: empty or huge ones are errors, not allocations.
    assert!(Structure::square(0).is_err());
    assert!(Structure::rect(usize::MAX, 2).is_err());
    assert!(Structure::cross(MAX_STRUCTURE_SIZE + 1).is_err());
    // A geodesic border needs the origin inside the element: a one-pixel
    // image's erosion by a ring would have no neighbour and give +inf.
    let ring = Structure::from_mask([3, 3], &[1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0]).unwrap();
    let dot = Tensor::full(&ctx, &[1, 1, 1, 1], 0.5).unwrap();
    for r in [dot.erosion(&ring, None, MorphBorder::Geodesic), dot.dilation(&ring, None, MorphBorder::Geodesic)] {
        assert!(matches!(r, Err(Error::InvalidArgument { name: "structure", .. })), "{r:?}");
    }
    // Found by the fuzzer: dilation flips the element in its window (as
    // Kornia), so for even sides the cell on the pixel is the origin's
    // mirror. cross(2) holds its origin (1, 1) but not the mirror (0, 0):
    // a geodesic top hat of a 2x3 image was +inf in its corner.
    let cross = Structure::cross(2).unwrap();
    let small = Tensor::full(&ctx, &[1, 3, 2, 3], 0.5).unwrap();
    assert!(small.erosion(&cross, None, MorphBorder::Geodesic).is_ok());
    for r in [small.dilation(&cross, None, MorphBorder::Geodesic), small.top_hat(&cross, None, MorphBorder::Geodesic)] {
        assert!(matches!(r, Err(Error::InvalidArgument { name: "structure", .. })), "{r:?}");
    }
    let corner = Structure::rect(1, 3).unwrap().with_origin([0, 0]).unwrap();
    assert!(dot.erosion(&corner, None, MorphBorder::Geodesic).is_ok());
    let padded = dot.erosion(&ring, None, MorphBorder::Border(BorderType::Replicate)).unwrap();
    assert_eq!(padded.to_vec().unwrap(), vec![0.5]);
    let flat = Tensor::zeros(&ctx, &[4, 4]).unwrap();
    assert!(matches!(flat.median_blur([3, 3], BorderType::Reflect), Err(Error::InvalidShape { .. })));
}
