//! image and nalgebra interop: every channel count and sample type, batches,
//! PNG output, exact integer round trips, matrices in row-major order.

mod support;

use image::{DynamicImage, ImageBuffer};
use nalgebra::{Matrix2x3, Matrix3, Vector2, Vector3};
use pixgrad::{Error, SampleType, Tensor};
use support::*;

fn asset(name: &str) -> DynamicImage {
    image::open(format!("{}/assets/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn eight_bit_images_of_every_channel_count_round_trip_exactly() {
    let ctx = ctx();
    let photo = asset("chelsea.png");
    let images = [
        DynamicImage::ImageLuma8(photo.to_luma8()),
        DynamicImage::ImageLumaA8(photo.to_luma_alpha8()),
        DynamicImage::ImageRgb8(photo.to_rgb8()),
        DynamicImage::ImageRgba8(photo.to_rgba8()),
    ];
    for (k, img) in images.iter().enumerate() {
        let t = Tensor::from_image(&ctx, img).unwrap();
        assert_eq!(t.shape(), &[1, k + 1, 300, 451]);
        let back = t.to_image().unwrap();
        assert_eq!(back.color(), img.color());
        assert_eq!(back.as_bytes(), img.as_bytes(), "{:?}", img.color());
    }
}

#[test]
fn sixteen_bit_and_float_images_round_trip() {
    let ctx = ctx();
    let mut rng = Rng::new(3);
    let (w, h) = (37u32, 23u32);
    let samples16: Vec<u16> = (0..w * h * 3).map(|_| (rng.next_u64() & 0xffff) as u16).collect();
    let img16 = DynamicImage::ImageRgb16(ImageBuffer::from_raw(w, h, samples16.clone()).unwrap());
    let t = Tensor::from_image(&ctx, &img16).unwrap();
    let values = t.to_vec().unwrap();
    // planar, v / 65535
    assert_eq!(values[0], samples16[0] as f32 / 65535.0);
    assert_eq!(values[(w * h) as usize + 5], samples16[5 * 3 + 1] as f32 / 65535.0);
    assert_eq!(t.to_image_as(SampleType::U16).unwrap().as_bytes(), img16.as_bytes());

    let gray16: Vec<u16> = (0..w * h * 2).map(|_| (rng.next_u64() & 0xffff) as u16).collect();
    let img = DynamicImage::ImageLumaA16(ImageBuffer::from_raw(w, h, gray16).unwrap());
    let back = Tensor::from_image(&ctx, &img).unwrap().to_image_as(SampleType::U16).unwrap();
    assert_eq!(back.as_bytes(), img.as_bytes());

    let floats: Vec<f32> = (0..w * h * 4).map(|_| rng.uniform(-0.5, 1.5) as f32).collect();
    let imgf = DynamicImage::ImageRgba32F(ImageBuffer::from_raw(w, h, floats).unwrap());
    let t = Tensor::from_image(&ctx, &imgf).unwrap();
    assert_eq!(t.to_image_as(SampleType::F32).unwrap().as_bytes(), imgf.as_bytes(), "f32 is kept as is");
    assert!(matches!(Tensor::zeros(&ctx, &[1, 1, 4, 4]).unwrap().to_image_as(SampleType::F32), Err(Error::Image(_))));
}

#[test]
fn batches_in_and_out() {
    let ctx = ctx();
    let a = asset("astronaut.png");
    let b = DynamicImage::ImageRgb8(asset("camera.png").to_rgb8());
    let c = a.rotate90();
    let batch = Tensor::from_images(&ctx, &[a.clone(), b.clone(), c.clone()]).unwrap();
    assert_eq!(batch.shape(), &[3, 3, 512, 512]);
    let back = batch.to_images().unwrap();
    for (got, want) in back.iter().zip([&a, &b, &c]) {
        assert_eq!(got.as_bytes(), want.as_bytes());
    }
    assert!(matches!(batch.to_image(), Err(Error::InvalidShape { .. })), "to_image is for one image");
    let small = asset("chelsea.png");
    assert!(matches!(Tensor::from_images(&ctx, &[a.clone(), small]), Err(Error::Image(_))));
    let gray = asset("camera.png");
    assert!(matches!(Tensor::from_images(&ctx, &[a, gray]), Err(Error::Image(_))));
    assert!(matches!(Tensor::from_images(&ctx, &[]), Err(Error::Image(_))));
}

#[test]
fn save_png_in_one_call() {
    let ctx = ctx();
    let img = asset("coffee.png");
    let t = Tensor::from_image(&ctx, &img).unwrap();
    let path = std::env::temp_dir().join(format!("pixgrad-test-{}.png", std::process::id()));
    t.save_png(&path).unwrap();
    let reloaded = image::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(reloaded.as_bytes(), img.to_rgb8().as_raw().as_slice());
    assert!(Tensor::zeros(&ctx, &[1, 5, 4, 4]).unwrap().save_png(std::env::temp_dir().join("x.png")).is_err());
}

#[test]
fn matrices_and_vectors() {
    let ctx = ctx();
    let h = Matrix3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.5f64);
    let t = Tensor::from_matrix(&ctx, &h).unwrap();
    assert_eq!(t.shape(), &[1, 3, 3]);
    assert_eq!(t.to_vec().unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.5], "row-major");
    assert_eq!(t.to_matrix::<f64, 3, 3>().unwrap(), h);

    let affines = [Matrix2x3::new(1.0, 0.0, 5.0, 0.0, 1.0, -3.0f32), Matrix2x3::new(0.0, -1.0, 0.0, 1.0, 0.0, 2.0)];
    let batch = Tensor::from_matrices(&ctx, &affines).unwrap();
    assert_eq!(batch.shape(), &[2, 2, 3]);
    assert_eq!(batch.to_matrices::<f32, 2, 3>().unwrap(), affines.to_vec());
    assert!(matches!(batch.to_matrix::<f32, 2, 3>(), Err(Error::InvalidShape { .. })));
    assert!(matches!(batch.to_matrices::<f32, 3, 3>(), Err(Error::InvalidShape { .. })));

    let points = [Vector2::new(1.0, 2.0f32), Vector2::new(-3.0, 4.0)];
    let t = Tensor::from_vectors(&ctx, &points).unwrap();
    assert_eq!(t.shape(), &[2, 2]);
    assert_eq!(t.to_vectors::<f32, 2>().unwrap(), points.to_vec());
    assert!(t.to_vectors::<f32, 3>().is_err());

    let bad = Matrix3::new(1.0, f64::NAN, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0);
    assert!(matches!(Tensor::from_matrix(&ctx, &bad), Err(Error::InvalidArgument { .. })));
    let overflow = Vector3::new(1e300, 0.0, 0.0f64);
    assert!(matches!(Tensor::from_vectors(&ctx, &[overflow]), Err(Error::InvalidArgument { .. })), "inf in f32");
}

#[test]
fn nalgebra_transforms_are_warp_parameters() {
    use nalgebra::{Affine2, Isometry2, Matrix3 as M3, Projective2, Similarity2};
    use pixgrad::ops::warp::{Interpolation, Padding, get_rotation_matrix2d};
    let ctx = ctx();
    let iso = Isometry2::new(Vector2::new(3.0f64, -2.0), 0.4);
    let sim = Similarity2::new(Vector2::new(-1.0f64, 5.0), -0.3, 1.7);
    let aff = Affine2::from_matrix_unchecked(M3::new(1.1f64, 0.2, 3.0, -0.1, 0.9, 1.0, 0.0, 0.0, 1.0));
    let proj = Projective2::from_matrix_unchecked(M3::new(1.0f64, 0.1, 2.0, 0.0, 1.1, -1.0, 1e-3, 2e-3, 1.0));
    // Parameters are the homogeneous matrices' rows, and they come back.
    let m = Tensor::from_transforms(&ctx, &[iso]).unwrap();
    let want: Vec<f64> = (0..6).map(|i| iso.to_homogeneous()[(i / 3, i % 3)]).collect();
    assert_close(&m.to_vec().unwrap(), &want, 1e-6, 1e-6, "isometry");
    let back: Isometry2<f64> = m.to_transforms().unwrap().remove(0);
    assert!(
        (back.rotation.angle() - 0.4).abs() < 1e-6 && (back.translation.vector - iso.translation.vector).norm() < 1e-5
    );
    let s: Similarity2<f64> = Tensor::from_transforms(&ctx, &[sim]).unwrap().to_transforms().unwrap().remove(0);
    assert!((s.scaling() - 1.7).abs() < 1e-5 && (s.isometry.rotation.angle() + 0.3).abs() < 1e-5);
    let a: Affine2<f64> = Tensor::from_transforms(&ctx, &[aff]).unwrap().to_transforms().unwrap().remove(0);
    assert!((a.matrix() - aff.matrix()).abs().max() < 1e-6);
    let hm = Tensor::from_transforms(&ctx, &[proj]).unwrap();
    assert_eq!(hm.shape(), &[1, 3, 3]);
    let p: Projective2<f64> = hm.to_transforms().unwrap().remove(0);
    assert!((p.matrix() - proj.matrix()).abs().max() < 1e-6);
    // An isometry warps like the rotation builder with the same angle about the origin.
    let img = Tensor::rand_uniform(&ctx, &[1, 1, 16, 16], 0.0, 1.0, 2).unwrap();
    let rot = Isometry2::new(Vector2::new(0.0f32, 0.0), -(20f32).to_radians());
    let a = img.warp_affine(
        &Tensor::from_transforms(&ctx, &[rot]).unwrap(),
        [16, 16],
        Interpolation::Bilinear,
        Padding::Zeros,
    );
    let built = get_rotation_matrix2d(
        &Tensor::zeros(&ctx, &[1, 2]).unwrap(),
        &Tensor::from_slice(&ctx, &[20.0], &[1]).unwrap(),
        &Tensor::ones(&ctx, &[1, 2]).unwrap(),
    )
    .unwrap();
    let b = img.warp_affine(&built, [16, 16], Interpolation::Bilinear, Padding::Zeros);
    let (a, b) = (a.unwrap().to_vec().unwrap(), b.unwrap().to_vec().unwrap());
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5));
    // Non-finite host transforms are refused.
    let bad = Isometry2::new(Vector2::new(f64::NAN, 0.0), 0.0);
    assert!(matches!(Tensor::from_transforms(&ctx, &[bad]), Err(Error::InvalidArgument { .. })));
}
