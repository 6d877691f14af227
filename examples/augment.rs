//! Random augmentation with annotations: the four bundled photos, each with
//! a mask (an ellipse), five keypoints (a square and its centre) and a box,
//! through a Kornia-like chain — resized crop, flip, affine, perspective,
//! colour jitter, blur — four times with new parameters. Writes
//! `grid.png` (top row the originals; the mask tinted red, the moved
//! square in cyan, its keypoints in green, the moved box in yellow) and
//! `inverse_0.png` … `inverse_3.png` (the first draw's geometry mapped back,
//! black where the chain cut).
//! Checks that every moved keypoint of the square's centre lies inside the
//! moved mask and that the inverse returns the photo inside its validity
//! mask; fails otherwise.
//!
//! ```text
//! cargo run --release --example augment -- --out out/augment
//! ```

mod common;

use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_cross_mut, draw_hollow_rect_mut, draw_line_segment_mut};
use imageproc::rect::Rect;
use pixgrad::augment::{
    Augmentation, ColorJitter, Generator, Params, RandomAffine, RandomGaussianBlur, RandomHorizontalFlip,
    RandomPerspective, RandomResizedCrop, Sequential,
};
use pixgrad::{Context, Tensor};

const SIDE: usize = 256;
const PHOTOS: [&str; 4] = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"];
/// The square's corners and centre (x, y).
const SQUARE: [[f32; 2]; 5] = [[64.0, 64.0], [192.0, 64.0], [192.0, 192.0], [64.0, 192.0], [128.0, 128.0]];

type Failure = Box<dyn std::error::Error>;

/// The chain's steps: resized crop, flip, affine, perspective (the
/// geometric four), colour jitter, blur.
fn steps() -> Vec<Box<dyn Augmentation>> {
    vec![
        Box::new(RandomResizedCrop::new([SIDE, SIDE]).scale(0.6, 1.0)),
        Box::new(RandomHorizontalFlip::new(0.5)),
        Box::new(RandomAffine::new(20.0).translate(0.08, 0.08).scale(0.9, 1.1).shear(8.0).p(1.0)),
        Box::new(RandomPerspective::new(0.25).p(0.5)),
        Box::new(ColorJitter::new(0.3, 0.3, 0.3, 0.05)),
        Box::new(RandomGaussianBlur::new([5, 5], (0.1, 1.5)).p(0.3)),
    ]
}

const GEOMETRIC_STEPS: usize = 4;

/// An ellipse filling most of each image, `[4, 1, SIDE, SIDE]`.
fn masks(ctx: &Context) -> pixgrad::Result<Tensor> {
    let c = (SIDE as f32 - 1.0) / 2.0;
    let one: Vec<f32> = (0..SIDE * SIDE)
        .map(|e| {
            let (y, x) = ((e / SIDE) as f32 - c, (e % SIDE) as f32 - c);
            f32::from(u8::from((x / 100.0).powi(2) + (y / 70.0).powi(2) <= 1.0))
        })
        .collect();
    Tensor::from_slice(ctx, &one.repeat(4), &[4, 1, SIDE, SIDE])
}

/// One picture per image: the photo, its mask tinted red, the square's
/// outline and keypoints, the box.
fn draw(images: &Tensor, masks: &Tensor, points: &[f32], boxes: &[f32]) -> Result<Vec<RgbImage>, Failure> {
    let (pixels, masks) = (images.to_vec()?, masks.to_vec()?);
    let plane = SIDE * SIDE;
    let mut pictures = Vec::new();
    for i in 0..4 {
        let mut picture = RgbImage::new(SIDE as u32, SIDE as u32);
        for (e, pixel) in picture.pixels_mut().enumerate() {
            let tint = 0.35 * masks[i * plane + e];
            let channel = |c: usize| pixels[(i * 3 + c) * plane + e].clamp(0.0, 1.0);
            let rgb = [channel(0) * (1.0 - tint) + tint, channel(1) * (1.0 - tint), channel(2) * (1.0 - tint)];
            *pixel = Rgb(rgb.map(|v| (v * 255.0).round() as u8));
        }
        let p = &points[10 * i..10 * i + 10];
        for k in 0..4 {
            let (a, b) = ((p[2 * k], p[2 * k + 1]), (p[2 * ((k + 1) % 4)], p[2 * ((k + 1) % 4) + 1]));
            draw_line_segment_mut(&mut picture, a, b, Rgb([0, 220, 255]));
        }
        for k in 0..5 {
            draw_cross_mut(&mut picture, Rgb([40, 255, 40]), p[2 * k].round() as i32, p[2 * k + 1].round() as i32);
        }
        let b = &boxes[4 * i..4 * i + 4];
        let (w, h) = ((b[2] - b[0]).max(1.0) as u32, (b[3] - b[1]).max(1.0) as u32);
        draw_hollow_rect_mut(&mut picture, Rect::at(b[0] as i32, b[1] as i32).of_size(w, h), Rgb([255, 220, 0]));
        pictures.push(picture);
    }
    Ok(pictures)
}

/// The moved centre of the square must land inside the moved mask.
fn check_centres(params: &Params, points: &[f32], masks: &[f32], row: usize) -> Result<(), Failure> {
    for i in 0..params.batch() {
        let (x, y) = (points[10 * i + 8].round(), points[10 * i + 9].round());
        let inside = (0.0..SIDE as f32).contains(&x) && (0.0..SIDE as f32).contains(&y);
        if !inside || masks[(i * SIDE + y as usize) * SIDE + x as usize] != 1.0 {
            return Err(
                format!("draw {row}, image {i}: the moved centre ({x}, {y}) is not inside the moved mask").into()
            );
        }
    }
    Ok(())
}

fn main() -> Result<(), Failure> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = common::output_dir(&mut args, "augment")?;
    let ctx = Context::new()?;
    let mut photos = Vec::new();
    for name in PHOTOS {
        photos.extend(common::load(&ctx, &common::asset(name), Some((SIDE as u32, SIDE as u32)), false)?.to_vec()?);
    }
    let images = Tensor::from_slice(&ctx, &photos, &[4, 3, SIDE, SIDE])?;
    let masks = masks(&ctx)?;
    let square: Vec<f32> = SQUARE.concat().repeat(4);
    let points = Tensor::from_slice(&ctx, &square, &[4, 5, 2])?;
    let boxes = Tensor::from_slice(&ctx, &[64.0, 64.0, 192.0, 192.0].repeat(4), &[4, 1, 4])?;
    let augmentations = Sequential::new(steps());
    let mut rows = vec![draw(&images, &masks, &square, &boxes.to_vec()?)?];
    let mut rng = Generator::new(2026);
    let mut first = None;
    for row in 0..4 {
        let (augmented, params) = augmentations.forward(&images, &mut rng)?;
        let moved_masks = augmentations.apply_to_mask(&masks, &params)?;
        let moved_points = augmentations.transform_points(&points, &params)?.to_vec()?;
        let moved_boxes = augmentations.transform_boxes(&boxes, &params)?.to_vec()?;
        check_centres(&params, &moved_points, &moved_masks.to_vec()?, row)?;
        rows.push(draw(&augmented, &moved_masks, &moved_points, &moved_boxes)?);
        first.get_or_insert((augmented, params));
    }
    let mut grid = RgbImage::new(4 * SIDE as u32, rows.len() as u32 * SIDE as u32);
    for (r, row) in rows.iter().enumerate() {
        for (c, picture) in row.iter().enumerate() {
            image::imageops::replace(&mut grid, picture, (c * SIDE) as i64, (r * SIDE) as i64);
        }
    }
    let path = out.join("grid.png");
    grid.save(&path)?;
    println!("wrote {}", path.display());

    // The first draw's geometry undone: compare with the photos inside the
    // validity mask, 3 pixels in from its edge. Colour jitter is not undone,
    // so compare a chain without it.
    let (_, params) = first.expect("four draws");
    let geometric = Sequential::new(steps().into_iter().take(GEOMETRIC_STEPS).collect());
    let geometric_params =
        Params { draws: params.draws[..GEOMETRIC_STEPS].to_vec(), sizes: params.sizes[..=GEOMETRIC_STEPS].to_vec() };
    let warped = geometric.forward_with(&images, &geometric_params)?;
    let (back, valid) = geometric.inverse(&warped, &geometric_params)?;
    let masked = back.mul(&valid)?;
    for i in 0..4 {
        let name = format!("inverse_{i}");
        common::save_pictures(&out, &[(&name, &masked.narrow(0, i, 1)?)])?;
    }
    let (back, valid, photos) = (back.to_vec()?, valid.to_vec()?, images.to_vec()?);
    let (mut total, mut count) = (0.0f64, 0usize);
    for i in 0..4 {
        for y in 3..SIDE - 3 {
            for x in 3..SIDE - 3 {
                if (y - 3..=y + 3).all(|yy| (x - 3..=x + 3).all(|xx| valid[(i * SIDE + yy) * SIDE + xx] == 1.0)) {
                    for c in 0..3 {
                        let e = ((i * 3 + c) * SIDE + y) * SIDE + x;
                        total += f64::from((back[e] - photos[e]).abs());
                        count += 1;
                    }
                }
            }
        }
    }
    let mean = total / count.max(1) as f64;
    println!("inverse: mean |difference| {mean:.4} over {count} values inside the validity mask");
    if count < 4 * 3 * SIDE * SIDE / 4 || mean > 0.03 {
        return Err(format!("the inverse is off: mean |difference| {mean} over {count} values").into());
    }
    Ok(())
}
