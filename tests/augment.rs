//! Random augmentation (#25): every transform against its operator called
//! directly with the drawn parameters (bit for bit, images not drawn
//! unchanged), the draws' determinism and probabilities, the container's
//! replay, inverse, masks, keypoints and boxes, magnitude gradients against
//! central differences, determinism of gradients and typed errors.

mod support;

use pixgrad::augment::{
    Augmentation, CenterCrop, ColorJiggle, ColorJitter, Draw, Generator, Magnitude, Params, RandomAffine, RandomCrop,
    RandomErasing, RandomGamma, RandomGaussianBlur, RandomGaussianNoise, RandomGrayscale, RandomHorizontalFlip,
    RandomPerspective, RandomResizedCrop, RandomRotation, RandomSharpness, RandomVerticalFlip, Range, Sequential,
};
use pixgrad::ops::filter::{BorderType, Sigma};
use pixgrad::ops::warp::{
    Interpolation, Padding, get_affine_matrix2d, get_perspective_transform, get_rotation_matrix2d,
};
use pixgrad::{Error, Tensor};
use support::*;

const H: usize = 96;
const W: usize = 128;

/// Four photos `[4, 3, 96, 128]` (non-square), lightly blurred so that
/// bilinear resampling twice stays close to the original.
fn photos() -> Tensor {
    let planes: Vec<f32> = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"]
        .iter()
        .flat_map(|name| {
            let img = image::open(format!("{}/assets/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap().resize_exact(
                W as u32,
                H as u32,
                image::imageops::FilterType::Triangle,
            );
            Tensor::from_image(&ctx(), &image::DynamicImage::ImageRgb8(img.to_rgb8())).unwrap().to_vec().unwrap()
        })
        .collect();
    Tensor::from_slice(&ctx(), &planes, &[4, 3, H, W])
        .unwrap()
        .gaussian_blur2d([5, 5], (1.0, 1.0), BorderType::Reflect)
        .unwrap()
}

fn scalar(v: f32) -> Tensor {
    Tensor::from_slice(&ctx(), &[v], &[1]).unwrap()
}

fn item(t: &Tensor, i: usize) -> Tensor {
    t.narrow(0, i, 1).unwrap()
}

/// The first draw (seeds 0, 1, …) that applies to some images and not to
/// others, so that both paths are checked.
fn mixed_draw(t: &dyn Augmentation, n: usize) -> Draw {
    (0..)
        .map(|seed| t.sample(&mut Generator::new(seed), n))
        .find(|d| d.applied.iter().any(|&a| a) && d.applied.iter().any(|&a| !a))
        .unwrap()
}

/// `t` applied to `img` equals, image by image, `expected(i, image i,
/// draws of i)` where drawn, and the image itself bit for bit elsewhere.
fn check_against(t: &dyn Augmentation, img: &Tensor, expected: impl Fn(&Tensor, &[f32], &Draw) -> Tensor) {
    let draw = mixed_draw(t, img.shape()[0]);
    let out = t.apply(img, &draw).unwrap();
    let per_image = draw.uniforms.len() / draw.applied.len();
    for (i, &applied) in draw.applied.iter().enumerate() {
        let x = item(img, i);
        let want = if applied { expected(&x, &draw.uniforms[i * per_image..(i + 1) * per_image], &draw) } else { x };
        assert_eq!(bits(&[&item(&out, i)]), bits(&[&want]), "{}: image {i} (drawn: {applied})", t.name());
    }
}

/// `lo + (hi − lo) u`, as the transforms draw.
fn lerp(lo: f32, hi: f32, u: f32) -> f32 {
    lo + (hi - lo) * u
}

fn warp(x: &Tensor, m: &Tensor, size: [usize; 2]) -> Tensor {
    x.warp_perspective(m, size, Interpolation::Bilinear, Padding::Zeros).unwrap()
}

fn center() -> Tensor {
    Tensor::from_slice(&ctx(), &[(W as f32 - 1.0) / 2.0, (H as f32 - 1.0) / 2.0], &[1, 2]).unwrap()
}

#[test]
fn geometric_transforms_equal_their_operators() {
    let img = photos();
    let ctx = ctx();
    let radians = std::f32::consts::PI / 180.0;
    let affine = RandomAffine::new(20.0).translate(0.1, 0.2).scale(0.8, 1.2).shear(10.0);
    check_against(&affine, &img, |x, u, _| {
        let t =
            Tensor::from_slice(&ctx, &[lerp(-0.1, 0.1, u[1]) * W as f32, lerp(-0.2, 0.2, u[2]) * H as f32], &[1, 2]);
        let s = lerp(0.8, 1.2, u[3]);
        let m = get_affine_matrix2d(
            &t.unwrap(),
            &center(),
            &Tensor::from_slice(&ctx, &[s, s], &[1, 2]).unwrap(),
            &scalar(lerp(-20.0, 20.0, u[0])),
            Some(&scalar(lerp(-10.0, 10.0, u[4]) * radians)),
            Some(&scalar(0.0)),
        )
        .unwrap();
        warp(x, &m, [H, W])
    });
    check_against(&RandomRotation::new(45.0), &img, |x, u, _| {
        let m =
            get_rotation_matrix2d(&center(), &scalar(lerp(-45.0, 45.0, u[0])), &Tensor::ones(&ctx, &[1, 2]).unwrap());
        let m = Tensor::cat(&[&m.unwrap(), &Tensor::from_slice(&ctx, &[0.0, 0.0, 1.0], &[1, 1, 3]).unwrap()], 1);
        warp(x, &m.unwrap(), [H, W])
    });
    check_against(&RandomHorizontalFlip::new(0.5), &img, |x, _, _| x.hflip().unwrap());
    check_against(&RandomVerticalFlip::new(0.5), &img, |x, _, _| x.vflip().unwrap());
    check_against(&RandomPerspective::new(0.4), &img, |x, u, _| {
        let (r, b) = (W as f32 - 1.0, H as f32 - 1.0);
        let start = [0.0, 0.0, r, 0.0, r, b, 0.0, b];
        let inwards = [1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0];
        let half = [W as f32 / 2.0, H as f32 / 2.0];
        let end: Vec<f32> = (0..8).map(|k| start[k] + 0.4 * (u[k] * inwards[k] * half[k % 2])).collect();
        let h = get_perspective_transform(
            &Tensor::from_slice(&ctx, &start, &[1, 4, 2]).unwrap(),
            &Tensor::from_slice(&ctx, &end, &[1, 4, 2]).unwrap(),
        );
        warp(x, &h.unwrap(), [H, W])
    });
    // The crop: a box of the drawn area and aspect (to rounding) inside the
    // image, onto the output's corners. Resized whole where not drawn.
    let crop = RandomResizedCrop::new([64, 48]).scale(0.3, 0.9).ratio(0.6, 1.5).p(0.5);
    let draw = mixed_draw(&crop, 4);
    let out = crop.apply(&img, &draw).unwrap();
    assert_eq!(out.shape(), &[4, 3, 64, 48]);
    for (i, &applied) in draw.applied.iter().enumerate() {
        let [x, y, bw, bh] =
            if applied { crop.crop_box(&draw.uniforms[40 * i..40 * i + 40], [H, W]) } else { [0, 0, W, H] };
        assert!(x + bw <= W && y + bh <= H, "image {i}: box {:?}", [x, y, bw, bh]);
        if applied {
            let area = (bw * bh) as f64 / (H * W) as f64;
            let aspect = bw as f64 / bh as f64;
            assert!((0.28..=0.92).contains(&area) && (0.55..=1.6).contains(&aspect), "area {area}, aspect {aspect}");
        }
        let (sx, sy) = (47.0 / (bw as f32 - 1.0), 63.0 / (bh as f32 - 1.0));
        let m = [sx, 0.0, -(x as f32) * sx, 0.0, sy, -(y as f32) * sy, 0.0, 0.0, 1.0];
        let want = warp(&item(&img, i), &Tensor::from_slice(&ctx, &m, &[1, 3, 3]).unwrap(), [64, 48]);
        assert_eq!(bits(&[&item(&out, i)]), bits(&[&want]), "RandomResizedCrop: image {i}");
    }
}

/// Random and centre windows are exact copies of the pixels inside them.
#[test]
fn crops_copy_their_windows() {
    let img = photos();
    let input = img.to_vec().unwrap();
    let crop = RandomCrop::new([50, 70]).p(0.5);
    let draw = mixed_draw(&crop, 4);
    let out = crop.apply(&img, &draw).unwrap().to_vec().unwrap();
    let centre = CenterCrop::new([50, 70]);
    let centred = centre.apply(&img, &centre.sample(&mut Generator::new(0), 4)).unwrap().to_vec().unwrap();
    let mut corners = Vec::new();
    for (i, &applied) in draw.applied.iter().enumerate() {
        let [x, y] = crop.corner(applied.then(|| &draw.uniforms[2 * i..2 * i + 2]), [H, W]);
        let [cx, cy] = [(W - 70) / 2, (H - 50) / 2];
        assert!(x + 70 <= W && y + 50 <= H);
        corners.push([x, y]);
        for e in 0..3 * 50 * 70 {
            let (c, row, col) = (e / (50 * 70), (e / 70) % 50, e % 70);
            let at = |x: usize, y: usize| input[((i * 3 + c) * H + y + row) * W + x + col].to_bits();
            assert_eq!(out[i * 3 * 50 * 70 + e].to_bits(), at(x, y), "image {i}, element {e}");
            assert_eq!(centred[i * 3 * 50 * 70 + e].to_bits(), at(cx, cy), "centre of image {i}, element {e}");
        }
    }
    // every placement possible: the draws spread over the free range
    let many = RandomCrop::new([50, 70]).sample(&mut Generator::new(1), 400);
    let xs: Vec<usize> =
        (0..400).map(|i| RandomCrop::new([50, 70]).corner(Some(&many.uniforms[2 * i..2 * i + 2]), [H, W])[0]).collect();
    assert_eq!((xs.iter().min(), xs.iter().max()), (Some(&0), Some(&(W - 70))));
    let too_big = Sequential::new(vec![Box::new(RandomCrop::new([H + 1, W]))]);
    assert!(matches!(too_big.forward(&img, &mut Generator::new(0)), Err(Error::InvalidArgument { .. })));
}

#[test]
fn intensity_transforms_equal_their_operators() {
    let img = photos();
    let ctx = ctx();
    let jitter = ColorJitter::new(0.3, 0.4, 0.5, 0.1).p(0.5);
    check_against(&jitter, &img, |x, u, draw| {
        let mut out = x.clone();
        for &k in &draw.order {
            out = match k {
                0 => out.adjust_brightness_accumulative(&scalar(lerp(0.7, 1.3, u[0]))),
                1 => out.adjust_contrast_with_mean(&scalar(lerp(0.6, 1.4, u[1]))),
                2 => out.adjust_saturation_with_gray(&scalar(lerp(0.5, 1.5, u[2]))),
                _ => out.adjust_hue(&scalar(lerp(-0.1, 0.1, u[3])).mul_scalar(std::f32::consts::TAU).unwrap()),
            }
            .unwrap();
        }
        out
    });
    let jiggle = ColorJiggle::new(0.3, 0.4, 0.5, 0.1).p(0.5);
    check_against(&jiggle, &img, |x, u, draw| {
        let mut out = x.clone();
        for &k in &draw.order {
            out = match k {
                0 => out.adjust_brightness(&scalar(lerp(0.7, 1.3, u[0])).add_scalar(-1.0).unwrap(), true),
                1 => out.adjust_contrast(&scalar(lerp(0.6, 1.4, u[1])), true),
                2 => out.adjust_saturation(&scalar(lerp(0.5, 1.5, u[2]))),
                _ => out.adjust_hue(&scalar(lerp(-0.1, 0.1, u[3])).mul_scalar(std::f32::consts::TAU).unwrap()),
            }
            .unwrap();
        }
        out
    });
    check_against(&RandomGrayscale::new(0.5), &img, |x, _, _| {
        let g = x.rgb_to_grayscale().unwrap();
        Tensor::cat(&[&g, &g, &g], 1).unwrap()
    });
    check_against(&RandomGaussianBlur::new([7, 5], (0.5, 2.5)), &img, |x, u, _| {
        let s = lerp(0.5, 2.5, u[0]);
        let sigma = Tensor::from_slice(&ctx, &[s, s], &[1, 2]).unwrap();
        x.gaussian_blur2d([7, 5], Sigma::Tensor(&sigma), BorderType::Reflect).unwrap()
    });
    check_against(&RandomGamma::new((0.5, 2.0), (0.8, 1.2)).p(0.5), &img, |x, u, _| {
        x.adjust_gamma(&scalar(lerp(0.5, 2.0, u[0])), &scalar(lerp(0.8, 1.2, u[1]))).unwrap()
    });
    check_against(&RandomSharpness::new(2.0), &img, |x, u, _| {
        x.adjust_sharpness(&scalar(lerp(0.0, 2.0, u[0]))).unwrap()
    });
    let noise = RandomGaussianNoise::new(0.02, 0.1);
    check_against(&noise, &img, |x, _, draw| {
        let z = Tensor::rand_normal(&ctx, &[4, 3, H, W], 0.0, 1.0, draw.seed).unwrap();
        let i = (0..4).find(|&i| bits(&[&item(&img, i)]) == bits(&[x])).unwrap();
        let std = Tensor::from_slice(&ctx, &[0.1], &[1, 1, 1, 1]).unwrap();
        x.add(&item(&z, i).mul(&std).unwrap().add_scalar(0.02).unwrap()).unwrap()
    });
    // Erasing: the drawn rectangle (of the drawn area, to rounding) holds
    // the value, every other pixel is the image's.
    let erase = RandomErasing::new().value(0.25);
    let draw = mixed_draw(&erase, 4);
    let out = erase.apply(&img, &draw).unwrap().to_vec().unwrap();
    let input = img.to_vec().unwrap();
    for (i, &applied) in draw.applied.iter().enumerate() {
        let [x, y, rw, rh] = erase.rectangle(&draw.uniforms[5 * i..5 * i + 5], [H, W]);
        assert!(x + rw <= W && y + rh <= H);
        let area = (rw * rh) as f64 / (H * W) as f64;
        assert!(!applied || (0.015..=0.35).contains(&area), "image {i}: area {area}");
        for e in 0..3 * H * W {
            let (row, col) = ((e / W) % H, e % W);
            let inside = applied && (y..y + rh).contains(&row) && (x..x + rw).contains(&col);
            let want = if inside { 0.25 } else { input[i * 3 * H * W + e] };
            assert_eq!(out[i * 3 * H * W + e].to_bits(), want.to_bits(), "image {i}, element {e}");
        }
    }
}

#[test]
fn draws_are_seeded_and_follow_their_probability() {
    let affine = RandomAffine::new(30.0).translate(0.1, 0.1).p(0.3);
    let a = affine.sample(&mut Generator::new(11), 2000);
    assert_eq!(a, affine.sample(&mut Generator::new(11), 2000));
    assert_ne!(a, affine.sample(&mut Generator::new(12), 2000));
    let rate = a.applied.iter().filter(|&&x| x).count() as f64 / 2000.0;
    assert!((rate - 0.3).abs() < 0.03, "applied to {rate} of the images");
    let mean = a.uniforms.iter().map(|&u| f64::from(u)).sum::<f64>() / a.uniforms.len() as f64;
    assert!((mean - 0.5).abs() < 0.01 && a.uniforms.iter().all(|u| (0.0..1.0).contains(u)), "uniform mean {mean}");
    let same = affine.clone().same_on_batch(true).sample(&mut Generator::new(3), 5);
    assert!(same.applied.windows(2).all(|w| w[0] == w[1]));
    assert!(same.uniforms.chunks(6).all(|c| c == &same.uniforms[..6]));
    // p = 0 returns the batch bit for bit.
    let img = photos();
    let chain = Sequential::new(vec![
        Box::new(RandomAffine::new(30.0).p(0.0)),
        Box::new(ColorJitter::new(0.5, 0.5, 0.5, 0.1).p(0.0)),
        Box::new(RandomPerspective::new(0.5).p(0.0)),
    ]);
    let (out, _) = chain.forward(&img, &mut Generator::new(1)).unwrap();
    assert_eq!(bits(&[&out]), bits(&[&img]));
}

/// A geometric chain on four photos: replay, inverse against the identity
/// inside the validity mask, masks, keypoints and boxes against the host.
#[test]
fn the_container_replays_inverts_and_moves_annotations() {
    let img = photos();
    let ctx = ctx();
    let chain = Sequential::new(vec![
        Box::new(RandomHorizontalFlip::new(0.5)),
        Box::new(RandomAffine::new(15.0).translate(0.06, 0.06).scale(0.9, 1.1).shear(5.0).p(0.9)),
        Box::new(RandomPerspective::new(0.2).p(0.7)),
    ]);
    let (out, params) = chain.forward(&img, &mut Generator::new(5)).unwrap();
    assert_eq!(bits(&[&out]), bits(&[&chain.forward_with(&img, &params).unwrap()]));
    // The run of geometric steps is one warp by the composed matrix.
    let m = chain.matrix(&ctx, &params).unwrap();
    assert_eq!(bits(&[&out]), bits(&[&warp(&img, &m, [H, W])]));
    let (back, valid) = chain.inverse(&out, &params).unwrap();
    let (back, valid, input) = (back.to_vec().unwrap(), valid.to_vec().unwrap(), img.to_vec().unwrap());
    // Inside the mask, 3 px from its edge (bilinear twice blurs less than that).
    let (mut worst, mut total, mut count) = (0f64, 0f64, 0usize);
    for i in 0..4 {
        for y in 3..H - 3 {
            for x in 3..W - 3 {
                let all_valid = (y - 3..=y + 3).all(|yy| (x - 3..=x + 3).all(|xx| valid[(i * H + yy) * W + xx] == 1.0));
                if !all_valid {
                    continue;
                }
                for c in 0..3 {
                    let e = ((i * 3 + c) * H + y) * W + x;
                    let d = f64::from((back[e] - input[e]).abs());
                    worst = worst.max(d);
                    total += d;
                    count += 1;
                }
            }
        }
    }
    let mean = total / count as f64;
    println!("inverse: {count} values inside the mask, mean |error| {mean:.4}, largest {worst:.4}");
    assert!(count > 4 * 3 * H * W / 3, "most of each image stays valid: {count}");
    assert!(mean < 0.01 && worst < 0.1, "mean {mean}, largest {worst}");
    // Resampled after every step (Kornia's way), the chain is the one warp
    // to resampling where its coverage is whole (3 px in).
    let each = Sequential::new(vec![
        Box::new(RandomHorizontalFlip::new(0.5)),
        Box::new(RandomAffine::new(15.0).translate(0.06, 0.06).scale(0.9, 1.1).shear(5.0).p(0.9)),
        Box::new(RandomPerspective::new(0.2).p(0.7)),
    ])
    .resample_each_step(true);
    let (chained, once) = (each.forward_with(&img, &params).unwrap().to_vec().unwrap(), out.to_vec().unwrap());
    let ones = Tensor::ones(&ctx, &[4, 1, H, W]).unwrap();
    let coverage = each.apply_to_mask(&ones, &params).unwrap().to_vec().unwrap();
    let inside = |e: usize| {
        let (i, y, x) = (e / (3 * H * W), (e / W) % H, e % W);
        (3..H - 3).contains(&y)
            && (3..W - 3).contains(&x)
            && (y - 3..=y + 3).all(|yy| (x - 3..=x + 3).all(|xx| coverage[(i * H + yy) * W + xx] == 1.0))
    };
    let differences: Vec<f64> =
        (0..once.len()).filter(|&e| inside(e)).map(|e| f64::from((once[e] - chained[e]).abs())).collect();
    let each_error = differences.iter().sum::<f64>() / differences.len() as f64;
    println!("each step vs one warp: mean |difference| {each_error:.4} over {} values", differences.len());
    assert!(each_error < 0.01, "resampled each step vs once: mean |difference| {each_error}");
    assert!(coverage.iter().filter(|&&c| c == 0.0).count() > 0, "the steps cut something");

    // Keypoints and boxes against the composed matrix on the host (f64).
    let mut rng = Rng::new(3);
    let points: Vec<f64> = (0..4 * 5).flat_map(|_| [rng.uniform(0.0, W as f64), rng.uniform(0.0, H as f64)]).collect();
    let matrices = to_f64(&m.to_vec().unwrap());
    let host = |i: usize, x: f64, y: f64| {
        let h = &matrices[9 * i..9 * i + 9];
        let w = h[6] * x + h[7] * y + h[8];
        [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w]
    };
    let moved = chain.transform_points(&tensor(&points, &[4, 5, 2]), &params).unwrap().to_vec().unwrap();
    let want: Vec<f64> = points.chunks(2).enumerate().flat_map(|(k, p)| host(k / 5, p[0], p[1])).collect();
    assert_within(&moved, &want, 1e-5, "keypoints");
    let back = chain.inverse_points(&tensor(&want, &[4, 5, 2]), &params).unwrap().to_vec().unwrap();
    assert_within(&back, &points, 1e-4, "keypoints back");
    let boxes = [10.0, 12.0, 60.0, 40.0, 70.0, 50.0, 120.0, 90.0].repeat(4);
    let got = chain.transform_boxes(&tensor(&boxes, &[4, 2, 4]), &params).unwrap().to_vec().unwrap();
    for (k, b) in boxes.chunks(4).enumerate() {
        let corners =
            [host(k / 2, b[0], b[1]), host(k / 2, b[2], b[1]), host(k / 2, b[2], b[3]), host(k / 2, b[0], b[3])];
        let want = [
            corners.iter().map(|c| c[0]).fold(f64::MAX, f64::min),
            corners.iter().map(|c| c[1]).fold(f64::MAX, f64::min),
            corners.iter().map(|c| c[0]).fold(f64::MIN, f64::max),
            corners.iter().map(|c| c[1]).fold(f64::MIN, f64::max),
        ];
        assert_within(&got[4 * k..4 * k + 4], &want, 1e-5, &format!("box {k}"));
    }

    // A mask follows the images: binary, and where the warped images are
    // far from the mask's edges, it agrees with the image of the mask.
    let mask: Vec<f64> =
        (0..4 * H * W).map(|e| f64::from(u8::from((e % W) / 16 % 2 == (e / W % H) / 16 % 2))).collect();
    let moved_mask = chain.apply_to_mask(&tensor(&mask, &[4, 1, H, W]), &params).unwrap().to_vec().unwrap();
    assert!(moved_mask.iter().all(|&v| v == 0.0 || v == 1.0));
    let as_image = chain.forward_with(
        &tensor(&mask, &[4, 1, H, W]).add(&Tensor::zeros(&ctx, &[4, 3, H, W]).unwrap()).unwrap(),
        &params,
    );
    let as_image = as_image.unwrap().narrow(1, 0, 1).unwrap().to_vec().unwrap();
    let agree = moved_mask.iter().zip(&as_image).filter(|(m, v)| (**v - 0.5).abs() < 0.3 || **m == v.round()).count();
    assert!(agree as f64 > 0.99 * moved_mask.len() as f64, "{agree} of {} agree", moved_mask.len());
}

/// `Σ w · f(m)` in f64 for a magnitude `m`.
fn weighted(f: &dyn Fn(&Tensor) -> Tensor, m: f32, w: &[f64]) -> f64 {
    dot(&to_f64(&f(&scalar(m)).to_vec().unwrap()), w)
}

/// The gradient of `Σ w · f(m)` in a learned magnitude against a central
/// difference, for each transform's learnable ranges, on smooth images
/// (warps with border padding: zero padding's one-pixel cliff at the frame
/// puts kinks of bilinear sampling within any usable difference step).
/// Smooth colour images `[4, 3, 96, 128]` in [0.1, 0.9] (sums of waves of
/// 20–40 px): bilinear sampling's slope jumps between cells stay small, so
/// central differences of warps converge.
fn smooth_images() -> Tensor {
    let values: Vec<f64> = (0..4 * 3 * H * W)
        .map(|e| {
            let (k, y, x) = (e / (H * W), ((e / W) % H) as f64, (e % W) as f64);
            let phase = k as f64 * 0.7;
            0.5 + 0.2 * (x / 6.0 + phase).sin() * (y / 5.0 - phase).cos() + 0.2 * ((x + y) / 9.0 + 2.0 * phase).sin()
        })
        .collect();
    tensor(&values, &[4, 3, H, W])
}

#[test]
fn magnitude_gradients_match_central_differences() {
    let img = smooth_images();
    type Build = Box<dyn Fn(&Tensor) -> Box<dyn Augmentation>>;
    let cases: Vec<(&str, f32, f32, Build)> = vec![
        (
            "affine degrees",
            10.0,
            0.005,
            Box::new(|m| Box::new(RandomAffine::with_degrees(Range::learned(0.0, m)).p(1.0).padding(Padding::Border))),
        ),
        (
            "affine translation",
            0.05,
            2e-5,
            Box::new(|m| {
                Box::new(
                    RandomAffine::new(0.0)
                        .translate_ranges(Range::learned(0.0, m), Range::learned(0.0, m))
                        .p(1.0)
                        .padding(Padding::Border),
                )
            }),
        ),
        (
            "affine scale",
            0.1,
            5e-5,
            Box::new(|m| {
                Box::new(RandomAffine::new(0.0).scale_range(Range::learned(1.0, m)).p(1.0).padding(Padding::Border))
            }),
        ),
        (
            "affine shear",
            8.0,
            0.005,
            Box::new(|m| {
                Box::new(
                    RandomAffine::new(0.0)
                        .shear_ranges(Range::learned(0.0, m), Range::learned(0.0, m))
                        .p(1.0)
                        .padding(Padding::Border),
                )
            }),
        ),
        (
            "rotation",
            20.0,
            0.005,
            Box::new(|m| {
                Box::new(RandomRotation::with_degrees(Range::learned(0.0, m)).p(1.0).padding(Padding::Border))
            }),
        ),
        (
            "perspective",
            0.3,
            1e-4,
            Box::new(|m| Box::new(RandomPerspective::new(Magnitude::from(m)).p(1.0).padding(Padding::Border))),
        ),
        (
            "brightness",
            0.2,
            1e-3,
            Box::new(|m| Box::new(ColorJitter::new(0.0, 0.0, 0.0, 0.0).brightness(Range::learned(1.0, m)))),
        ),
        (
            "contrast",
            0.3,
            1e-3,
            Box::new(|m| Box::new(ColorJitter::new(0.0, 0.0, 0.0, 0.0).contrast(Range::learned(1.0, m)))),
        ),
        (
            "saturation",
            0.4,
            1e-3,
            Box::new(|m| Box::new(ColorJitter::new(0.0, 0.0, 0.0, 0.0).saturation(Range::learned(1.0, m)))),
        ),
        ("hue", 0.05, 2e-4, Box::new(|m| Box::new(ColorJitter::new(0.0, 0.0, 0.0, 0.0).hue(Range::learned(0.0, m))))),
        (
            "blur sigma",
            0.5,
            1e-3,
            Box::new(|m| Box::new(RandomGaussianBlur::new([7, 7], Range::learned(1.5, m)).p(1.0))),
        ),
        ("gamma", 0.3, 1e-3, Box::new(|m| Box::new(RandomGamma::new(Range::learned(1.0, m), (1.0, 1.0))))),
        ("sharpness", 0.4, 1e-3, Box::new(|m| Box::new(RandomSharpness::with_factor(Range::learned(1.0, m)).p(1.0)))),
        ("noise std", 0.1, 1e-3, Box::new(|m| Box::new(RandomGaussianNoise::new(0.0, Magnitude::from(m)).p(1.0)))),
    ];
    let mut rng = Rng::new(8);
    let w = rng.vec(img.numel(), -1.0, 1.0);
    for (name, m0, h, build) in cases {
        let draw = build(&scalar(m0)).sample(&mut Generator::new(21), 4);
        let f = |m: &Tensor| build(m).apply(&img, &draw).unwrap();
        let m = scalar(m0).with_grad();
        let out = f(&m);
        let grads = out.backward_with(&tensor(&w, out.shape())).unwrap();
        let analytic = f64::from(grads.get(&m).unwrap().to_vec().unwrap()[0]);
        let numeric = (weighted(&f, m0 + h, &w) - weighted(&f, m0 - h, &w)) / (2.0 * f64::from(h));
        let error = (analytic - numeric).abs() / numeric.abs().max(analytic.abs());
        println!("{name}: {analytic:.5} vs {numeric:.5} ({error:.2e})");
        assert!(error < 2e-2, "{name}: gradient {analytic} vs central difference {numeric}");
        // and bitwise the same on a second run
        let again = f(&m).backward_with(&tensor(&w, out.shape())).unwrap();
        assert_eq!(bits(&[grads.get(&m).unwrap()]), bits(&[again.get(&m).unwrap()]), "{name}: determinism");
    }
}

#[test]
fn bad_settings_and_parameters_are_typed_errors() {
    let img = photos();
    let mut rng = Generator::new(0);
    let invalid = |t: Box<dyn Augmentation>, what: &str| {
        let chain = Sequential::new(vec![t]);
        assert!(chain.forward(&img, &mut Generator::new(0)).is_err(), "{what} should be refused");
    };
    invalid(Box::new(RandomAffine::new(10.0).p(1.5)), "p = 1.5");
    invalid(Box::new(RandomAffine::with_degrees(Range::Fixed(5.0, -5.0))), "an empty range");
    invalid(Box::new(RandomAffine::new(f32::NAN)), "a NaN range");
    invalid(Box::new(RandomPerspective::new(1.5)), "distortion 1.5");
    invalid(Box::new(RandomResizedCrop::new([0, 10])), "an empty output");
    invalid(Box::new(RandomResizedCrop::new([10, 10]).scale(0.5, 2.0)), "a crop larger than the image");
    invalid(Box::new(RandomGaussianBlur::new([5, 5], (0.0, 1.0))), "a zero sigma");
    invalid(Box::new(ColorJitter::new(0.1, 0.0, 0.0, 0.7)), "hue past half a turn");
    invalid(Box::new(RandomErasing::new().value(f32::INFINITY)), "an infinite fill");
    let two = Tensor::ones(&ctx(), &[2]).unwrap();
    invalid(Box::new(RandomAffine::with_degrees(Range::learned(0.0, &two))), "a learned magnitude of two values");
    let grey = Tensor::ones(&ctx(), &[2, 1, 8, 8]).unwrap();
    let jitter = Sequential::new(vec![Box::new(ColorJitter::new(0.1, 0.1, 0.1, 0.0))]);
    assert!(matches!(jitter.forward(&grey, &mut rng), Err(Error::InvalidShape { .. })));
    // Parameters drawn for another batch or chain.
    let chain = Sequential::new(vec![Box::new(RandomHorizontalFlip::new(0.5))]);
    let (_, params) = chain.forward(&img, &mut rng).unwrap();
    assert!(matches!(chain.forward_with(&grey, &params), Err(Error::InvalidArgument { .. })));
    let other = Params { draws: vec![], sizes: vec![[H, W]] };
    assert!(matches!(chain.forward_with(&img, &other), Err(Error::InvalidArgument { .. })));
    assert!(matches!(
        chain.transform_points(&Tensor::ones(&ctx(), &[3, 2, 2]).unwrap(), &params),
        Err(Error::InvalidShape { .. })
    ));
}

/// Kornia's transforms run with the parameters Kornia drew
/// (tests/data/augment_cases.py, align_corners=True), given to ours as the
/// uniform draws that produce them: the same images within 1e-4, and every
/// draw within [0, 1] (the parameter ranges mean the same).
#[test]
fn transforms_match_kornia_given_its_parameters() {
    let cases = include_str!("data/augment_cases.txt");
    let case = |name: &str| data_case(cases, name);
    let (n, h, w) = (3, 12.0, 20.0);
    let img = tensor(&case("image"), &[n, 3, 12, 20]);
    let draw = |uniforms: Vec<f64>, order: Vec<usize>| Draw {
        applied: vec![true; n],
        uniforms: uniforms.iter().map(|&u| u as f32).collect(),
        order,
        seed: 0,
    };
    let check = |t: &dyn Augmentation, d: &Draw, name: &str| {
        assert!(d.uniforms.iter().all(|u| (0.0..=1.0).contains(u)), "{name}: draws {:?}", d.uniforms);
        let out = t.apply(&img, d).unwrap().to_vec().unwrap();
        assert_within(&out, &case(&format!("{name}.out")), 1e-4, name);
    };
    let (angle, shift, scale) = (case("affine.angle"), case("affine.translations"), case("affine.scale"));
    let (shear_x, shear_y) = (case("affine.shear_x"), case("affine.shear_y"));
    assert!(shear_y.iter().all(|&v| v == 0.0), "a shear=s affine shears along x only");
    let u = (0..n).flat_map(|i| {
        [
            (angle[i] + 20.0) / 40.0,
            (shift[2 * i] / w + 0.1) / 0.2,
            (shift[2 * i + 1] / h + 0.2) / 0.4,
            (scale[2 * i] - 0.8) / 0.4,
            (shear_x[i] + 10.0) / 20.0,
            0.0,
        ]
    });
    let affine = RandomAffine::new(20.0).translate(0.1, 0.2).scale(0.8, 1.2).shear(10.0).p(1.0);
    check(&affine, &draw(u.collect(), vec![]), "affine");
    let u = case("rotation.degrees").iter().map(|d| (d + 45.0) / 90.0).collect();
    check(&RandomRotation::new(45.0).p(1.0), &draw(u, vec![]), "rotation");
    // end = start + 0.4 · u · (inwards) · (W/2, H/2)
    let (start, end) = (case("perspective.start_points"), case("perspective.end_points"));
    let inwards = [1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0];
    let u = (0..8 * n).map(|e| (end[e] - start[e]) / (0.4 * inwards[e % 8] * [w / 2.0, h / 2.0][e % 2])).collect();
    check(&RandomPerspective::new(0.4).p(1.0), &draw(u, vec![]), "perspective");
    for name in ["jitter", "jiggle"] {
        let factors = ["brightness", "contrast", "saturation", "hue"].map(|f| case(&format!("{name}.{f}_factor")));
        let u = (0..n).flat_map(|i| {
            [
                (factors[0][i] - 0.7) / 0.6,
                (factors[1][i] - 0.6) / 0.8,
                (factors[2][i] - 0.5) / 1.0,
                (factors[3][i] + 0.1) / 0.2,
            ]
        });
        let d = draw(u.collect(), case(&format!("{name}.order")).iter().map(|&k| k as usize).collect());
        if name == "jitter" {
            check(&ColorJitter::new(0.3, 0.4, 0.5, 0.1), &d, name);
        } else {
            check(&ColorJiggle::new(0.3, 0.4, 0.5, 0.1), &d, name);
        }
    }
}

/// Learned magnitudes through the container: a chain with a learned
/// rotation range, a flip and a learned saturation jitter, the gradient of
/// both magnitudes against central differences of the whole chain (the
/// geometric run fused into one warp), and the images' gradient through it
/// by the dot-product identity of the linear part (flip and affine only).
#[test]
fn magnitude_gradients_flow_through_the_container() {
    let img = smooth_images();
    let chain = |degrees: &Tensor, saturation: &Tensor| {
        Sequential::new(vec![
            Box::new(RandomHorizontalFlip::new(0.5)),
            Box::new(RandomAffine::with_degrees(Range::learned(0.0, degrees)).p(1.0).padding(Padding::Border)),
            Box::new(ColorJitter::new(0.0, 0.0, 0.0, 0.0).saturation(Range::learned(1.0, saturation))),
        ])
    };
    let params = chain(&scalar(12.0), &scalar(0.3)).sample(&mut Generator::new(4), img.shape()).unwrap();
    // A smooth weighting (the images' own centred values, reversed): random
    // weights cancel to a gradient within the differences' noise.
    let mut w: Vec<f64> = to_f64(&img.to_vec().unwrap()).iter().map(|v| v - 0.5).collect();
    w.reverse();
    let run = |d: f32, s: f32| {
        dot(&to_f64(&chain(&scalar(d), &scalar(s)).forward_with(&img, &params).unwrap().to_vec().unwrap()), &w)
    };
    let (d, s) = (scalar(12.0).with_grad(), scalar(0.3).with_grad());
    let out = chain(&d, &s).forward_with(&img, &params).unwrap();
    let grads = out.backward_with(&tensor(&w, out.shape())).unwrap();
    for (name, t, h, numeric) in [
        ("degrees", &d, 0.005f32, (run(12.005, 0.3) - run(11.995, 0.3)) / 0.01),
        ("saturation", &s, 1e-3, (run(12.0, 0.301) - run(12.0, 0.299)) / 0.002),
    ] {
        let analytic = f64::from(grads.get(t).unwrap().to_vec().unwrap()[0]);
        let error = (analytic - numeric).abs() / numeric.abs().max(analytic.abs());
        println!("through the chain, {name} (step {h}): {analytic:.5} vs {numeric:.5} ({error:.2e})");
        assert!(error < 2e-2, "{name}: {analytic} vs {numeric}");
    }
    let linear =
        Sequential::new(vec![Box::new(RandomHorizontalFlip::new(0.5)), Box::new(RandomAffine::new(12.0).p(1.0))]);
    let geometric = Params { draws: params.draws[..2].to_vec(), sizes: params.sizes[..3].to_vec() };
    let error = pixgrad::check::check_adjoint(|x| linear.forward_with(x, &geometric), &img, 3).unwrap();
    assert!(error < 1e-5, "the geometric chain's adjoint: {error}");
}

/// Photo size, odd and non-square (two photos at 1023×769): a window in the
/// far corner copied exactly, a chain with a 40° turn about the centre and
/// shifts of a quarter of the frame replayed as one warp, its keypoints at
/// the frame's corners against the host, and the inverse inside its mask.
#[test]
fn photo_sized_batches() {
    let (h, w) = (769usize, 1023usize);
    let planes: Vec<f32> = ["chelsea.png", "coffee.png"]
        .iter()
        .flat_map(|name| {
            let img = image::open(format!("{}/assets/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap().resize_exact(
                w as u32,
                h as u32,
                image::imageops::FilterType::Triangle,
            );
            Tensor::from_image(&ctx(), &image::DynamicImage::ImageRgb8(img.to_rgb8())).unwrap().to_vec().unwrap()
        })
        .collect();
    let img = Tensor::from_slice(&ctx(), &planes, &[2, 3, h, w]).unwrap();
    // The far corner: the largest draw places the window at the last offset.
    let crop = RandomCrop::new([300, 401]);
    let far = Draw { applied: vec![true; 2], uniforms: vec![0.999_999_9; 4], ..Draw::default() };
    let out = crop.apply(&img, &far).unwrap().to_vec().unwrap();
    for (e, v) in out.iter().enumerate().step_by(97) {
        let (i, c, row, col) = (e / (3 * 300 * 401), (e / (300 * 401)) % 3, (e / 401) % 300, e % 401);
        let want = planes[((i * 3 + c) * h + h - 300 + row) * w + w - 401 + col];
        assert_eq!(v.to_bits(), want.to_bits(), "window element {e}");
    }
    let chain = Sequential::new(vec![
        Box::new(RandomRotation::new(40.0).p(1.0)),
        Box::new(RandomAffine::new(0.0).translate(0.25, 0.25).p(1.0)),
        Box::new(ColorJitter::new(0.2, 0.2, 0.2, 0.02)),
    ]);
    let geometric = Sequential::new(vec![
        Box::new(RandomRotation::new(40.0).p(1.0)),
        Box::new(RandomAffine::new(0.0).translate(0.25, 0.25).p(1.0)),
    ]);
    let (_, params) = chain.forward(&img, &mut Generator::new(9)).unwrap();
    let geometric_params = Params { draws: params.draws[..2].to_vec(), sizes: params.sizes[..3].to_vec() };
    let moved = geometric.forward_with(&img, &geometric_params).unwrap();
    let m = geometric.matrix(&ctx(), &geometric_params).unwrap();
    assert_eq!(bits(&[&moved]), bits(&[&warp(&img, &m, [h, w])]));
    let matrices = to_f64(&m.to_vec().unwrap());
    let corners = [0.0, 0.0, (w - 1) as f64, 0.0, 0.0, (h - 1) as f64, (w - 1) as f64, (h - 1) as f64];
    let points = tensor(&corners.repeat(2), &[2, 4, 2]);
    let got = geometric.transform_points(&points, &geometric_params).unwrap().to_vec().unwrap();
    let want: Vec<f64> = corners
        .repeat(2)
        .chunks(2)
        .enumerate()
        .flat_map(|(k, p)| {
            let m = &matrices[9 * (k / 4)..9 * (k / 4) + 9];
            let z = m[6] * p[0] + m[7] * p[1] + m[8];
            [(m[0] * p[0] + m[1] * p[1] + m[2]) / z, (m[3] * p[0] + m[4] * p[1] + m[5]) / z]
        })
        .collect();
    assert_within(&got, &want, 1e-6, "corners");
    let (back, valid) = geometric.inverse(&moved, &geometric_params).unwrap();
    let (back, valid) = (back.to_vec().unwrap(), valid.to_vec().unwrap());
    let (mut total, mut count) = (0.0, 0);
    for e in (0..back.len()).step_by(13) {
        let (i, y, x) = (e / (3 * h * w), (e / w) % h, e % w);
        let inside = (2..h - 2).contains(&y)
            && (2..w - 2).contains(&x)
            && (y - 2..=y + 2).all(|yy| (x - 2..=x + 2).all(|xx| valid[(i * h + yy) * w + xx] == 1.0));
        if inside {
            total += f64::from((back[e] - planes[e]).abs());
            count += 1;
        }
    }
    let mean = total / count as f64;
    println!("photo size inverse: mean |error| {mean:.4} over {count} sampled values");
    assert!(count > 10_000 && mean < 0.02, "mean {mean} over {count}");
    // A transform called directly refuses a draw made for another batch.
    assert!(matches!(crop.apply(&img, &Draw { applied: vec![true; 3], ..far }), Err(Error::InvalidArgument { .. })));
}
