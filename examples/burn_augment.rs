//! A small burn model with pixgrad stages inside (feature `burn`): a
//! spatial transformer (a CNN predicts an affine matrix per image, pixgrad's
//! `warp_affine` applies it) followed by a learnable colour stage (pixgrad's
//! `adjust_saturation` and `adjust_brightness` with trained factors). It is
//! trained with burn's Adam to undo random warps and a colour change applied
//! to crops of the bundled photos; gradients reach the CNN through pixgrad's
//! adjoints. Prints the loss going down.
//!
//! ```text
//! cargo run --release --features burn --example burn_augment
//! ```

mod common;

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Device, Tensor, TensorData};
use pixgrad::ops::warp::{Interpolation, Padding};
use pixgrad::{Context, no_grad};

const SIDE: usize = 64;

#[derive(Module, Debug)]
struct Model {
    conv1: Conv2d,
    conv2: Conv2d,
    /// Predicts the 6 affine parameters (offsets from the identity).
    head: Linear,
    saturation: Param<Tensor<1>>,
    brightness: Param<Tensor<1>>,
}

impl Model {
    fn new(device: &Device) -> Model {
        Model {
            conv1: Conv2dConfig::new([3, 8], [5, 5]).with_stride([2, 2]).init(device),
            conv2: Conv2dConfig::new([8, 16], [5, 5]).with_stride([2, 2]).init(device),
            // Zero weights: training starts from the identity warp.
            head: LinearConfig::new(16 * 4 * 4, 6).with_initializer(Initializer::Zeros).init(device),
            saturation: Param::from_tensor(Tensor::from_floats([1.0], device)),
            brightness: Param::from_tensor(Tensor::from_floats([0.0], device)),
        }
    }

    fn forward(&self, ctx: &Context, img: Tensor<4>) -> pixgrad::Result<Tensor<4>> {
        let [n, ..] = img.dims();
        let features = relu(self.conv2.forward(relu(self.conv1.forward(img.clone()))));
        let features = adaptive_avg_pool2d(features, [4, 4]).reshape([n, 16 * 4 * 4]);
        // Pixel-space matrix: identity + small linear part + translation in pixels.
        let scale = Tensor::<1>::from_floats([0.1, 0.1, 4.0, 0.1, 0.1, 4.0], &img.device()).reshape([1, 6]);
        let identity = Tensor::<1>::from_floats([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], &img.device()).reshape([1, 6]);
        let theta = (self.head.forward(features) * scale + identity).reshape([n, 2, 3]);
        let aligned =
            pixgrad::burn::warp_affine(ctx, img, theta, [SIDE, SIDE], Interpolation::Bilinear, Padding::Border)?;
        let saturated = pixgrad::burn::adjust_saturation(ctx, aligned, self.saturation.val())?;
        pixgrad::burn::adjust_brightness(ctx, saturated, self.brightness.val(), false)
    }
}

/// Crops of the bundled photos (targets) and copies warped by known affine
/// maps with less saturation and a darker exposure (inputs).
fn dataset(ctx: &Context, device: &Device) -> Result<(Tensor<4>, Tensor<4>), Box<dyn std::error::Error>> {
    let names = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"];
    let mut crops = Vec::new();
    for name in names {
        crops.extend(common::load(ctx, &common::asset(name), Some((SIDE as u32, SIDE as u32)), false)?.to_vec()?);
    }
    let n = names.len();
    let targets = pixgrad::Tensor::from_slice(ctx, &crops, &[n, 3, SIDE, SIDE])?;
    let angles = [0.08f32, -0.06, 0.05, -0.09];
    let shifts = [(2.5f32, -1.5f32), (-2.0, 2.0), (1.5, 2.5), (-2.5, -1.0)];
    let mut m = Vec::new();
    for (a, (tx, ty)) in angles.iter().zip(shifts) {
        let c = SIDE as f32 / 2.0;
        let (cos, sin) = (a.cos(), a.sin());
        m.extend([cos, -sin, c - cos * c + sin * c + tx, sin, cos, c - sin * c - cos * c + ty]);
    }
    let m = pixgrad::Tensor::from_slice(ctx, &m, &[n, 2, 3])?;
    let inputs = no_grad(|| {
        targets
            .warp_affine(&m, [SIDE, SIDE], Interpolation::Bilinear, Padding::Border)?
            .adjust_saturation(0.6)?
            .adjust_brightness(-0.08, false)
    })?;
    let to_burn = |t: &pixgrad::Tensor| -> pixgrad::Result<Tensor<4>> {
        Ok(Tensor::from_data(TensorData::new(t.to_vec()?, [n, 3, SIDE, SIDE]), device))
    };
    Ok((to_burn(&inputs)?, to_burn(&targets)?))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (device, ctx) = pixgrad::burn::init()?;
    println!("adapter: {} ({:?}), shared by burn and pixgrad", ctx.adapter_info().name, ctx.adapter_info().backend);
    let device = device.autodiff();
    let (inputs, targets) = dataset(&ctx, &device)?;
    let mut model = Model::new(&device);
    let mut optimizer = AdamConfig::new().init();
    let steps = common::steps(60);
    let mut first = None;
    let mut last = 0.0;
    for step in 0..=steps {
        let output = model.forward(&ctx, inputs.clone())?;
        let loss = (output - targets.clone()).powi_scalar(2).mean();
        last = loss.clone().into_data().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?[0];
        first.get_or_insert(last);
        if step % 10 == 0 || step == steps {
            println!("step {step:3}: loss {last:.5}");
        }
        if step == steps {
            break;
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(5e-3, model, grads);
    }
    let first = first.unwrap_or(last);
    println!("loss {first:.5} -> {last:.5}");
    if last >= first {
        return Err(format!("the loss did not go down ({first} -> {last})").into());
    }
    Ok(())
}
