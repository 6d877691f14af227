//! Every tensor an op saves for its backward is version-checked: changing
//! any input (or output) in place between the forward pass and `backward()`
//! gives `Error::SavedTensorModified`, or, where the op did not save it, the
//! gradient the unchanged graph gives. Never a silently wrong gradient.

mod support;

use pixgrad::{Error, Tensor};
use support::ops::{OpCase, catalogue};
use support::*;

/// The image and the parameters of `case`, fresh, with only input `learn` tracked.
fn inputs(case: &OpCase, learn: usize) -> Vec<Tensor> {
    let ctx = ctx();
    let img = Tensor::rand_uniform(&ctx, &[1, 3, 20, 24], 0.0, 1.0, 1).unwrap();
    let all: Vec<Tensor> = std::iter::once(img).chain((case.params)(&ctx, 1)).collect();
    all.into_iter().enumerate().map(|(i, t)| if i == learn { t.with_grad() } else { t }).collect()
}

/// The gradient of input `learn`, with input `changed` (or the output, at
/// `inputs.len()`) overwritten in place after the forward pass.
fn gradient(case: &OpCase, learn: usize, changed: Option<usize>) -> pixgrad::Result<Vec<f32>> {
    let inputs = inputs(case, learn);
    let out = (case.run)(&inputs[0], &inputs[1..]).unwrap();
    let weights = Tensor::rand_uniform(inputs[0].context(), out.shape(), -1.0, 1.0, 9).unwrap();
    let loss = out.mul(&weights).unwrap().sum().unwrap();
    if let Some(k) = changed {
        let target = inputs.get(k).unwrap_or(&out);
        let moved = target.detach().mul_scalar(0.9).unwrap().add_scalar(0.01).unwrap();
        target.copy_from(&moved).unwrap();
    }
    let grads = loss.backward()?;
    Ok(grads.get(&inputs[learn]).map(|g| g.to_vec().unwrap()).unwrap_or_default())
}

#[test]
fn changing_any_saved_tensor_in_place_is_caught() {
    for case in catalogue() {
        let count = 1 + (case.params)(&ctx(), 1).len();
        for learn in 0..count {
            let unchanged = gradient(&case, learn, None).unwrap();
            for changed in 0..=count {
                match gradient(&case, learn, Some(changed)) {
                    Err(Error::SavedTensorModified { .. }) => {}
                    Ok(grad) => assert_eq!(
                        grad, unchanged,
                        "{}: the gradient of input {learn} changed silently after input {changed} was overwritten",
                        case.name
                    ),
                    Err(e) => panic!("{}: {e}", case.name),
                }
            }
        }
    }
}

/// The defect that made this test: the matrix of a warp was saved for the
/// image's gradient without its version when the matrix itself needed none.
#[test]
fn a_warp_matrix_changed_before_backward_is_caught() {
    let ctx = ctx();
    let img = Tensor::rand_uniform(&ctx, &[1, 3, 16, 16], 0.0, 1.0, 2).unwrap().with_grad();
    let h = Tensor::from_slice(&ctx, &[1.0, 0.1, 2.0, 0.0, 1.0, -1.0, 0.0, 0.0, 1.0], &[1, 3, 3]).unwrap();
    use pixgrad::ops::warp::{Interpolation, Padding};
    let loss = img.warp_perspective(&h, [16, 16], Interpolation::Bilinear, Padding::Zeros).unwrap().sum().unwrap();
    h.copy_from(&Tensor::from_slice(&ctx, &[2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0], &[1, 3, 3]).unwrap())
        .unwrap();
    assert!(matches!(loss.backward(), Err(Error::SavedTensorModified { op: "warp_perspective", .. })));
}

/// Live pool bytes after `build` made an output from a 3×256² input that
/// requires a gradient and the caller dropped that input: an op keeps the
/// input alive only when a gradient it must compute reads it.
fn live_after_dropping_the_input(ctx: &pixgrad::Context, build: impl Fn(&Tensor) -> Tensor) -> (u64, u64) {
    let leaf = Tensor::rand_uniform(ctx, &[1, 3, 256, 256], 0.0, 1.0, 1).unwrap().with_grad();
    let input = leaf.mul_scalar(2.0).unwrap(); // an intermediate: only the graph can keep it
    let out = build(&input);
    ctx.synchronize().unwrap();
    let before = ctx.memory().live;
    drop(input);
    let after = ctx.memory().live;
    drop(out);
    (before, after)
}

#[test]
fn ops_save_only_what_the_needed_gradients_read() {
    // Its own context: other tests' buffers would move the live bytes.
    let ctx = pixgrad::Context::new().unwrap();
    let image_bytes = 3 * 256 * 256 * 4;
    let kernel = Tensor::full(&ctx, &[1, 5, 5], 0.04).unwrap();
    let matrix = Tensor::from_slice(&ctx, &[1.0, 0.1, 2.0, -0.1, 1.0, -3.0], &[1, 2, 3]).unwrap();
    let weight = Tensor::full(&ctx, &[3, 3, 3, 3], 0.1).unwrap();
    let colour = Tensor::from_slice(&ctx, &[0.9, 0.1, 0.0, 0.0, 1.0, 0.1, 0.1, 0.0, 0.9], &[1, 3, 3]).unwrap();
    let bias = Tensor::zeros(&ctx, &[1, 3]).unwrap();
    use pixgrad::{BorderType, ConvOptions, Interpolation, Padding};
    type Build<'a> = Box<dyn Fn(&Tensor, bool) -> Tensor + 'a>;
    let cases: Vec<(&str, Build)> = vec![
        (
            "filter2d",
            Box::new(|x, learn| {
                let k = if learn { kernel.detach().with_grad() } else { kernel.clone() };
                x.filter2d(&k, BorderType::Reflect, false).unwrap()
            }),
        ),
        (
            "warp_affine",
            Box::new(|x, learn| {
                let m = if learn { matrix.detach().with_grad() } else { matrix.clone() };
                x.warp_affine(&m, [256, 256], Interpolation::Bilinear, Padding::Zeros).unwrap()
            }),
        ),
        (
            "conv2d",
            Box::new(|x, learn| {
                let w = if learn { weight.detach().with_grad() } else { weight.clone() };
                x.conv2d(&w, None, ConvOptions { padding: [1, 1], ..Default::default() }).unwrap()
            }),
        ),
        (
            "color_matrix",
            Box::new(|x, learn| {
                let m = if learn { colour.detach().with_grad() } else { colour.clone() };
                x.color_matrix(&m, &bias).unwrap()
            }),
        ),
    ];
    for (name, build) in cases {
        // Only the image learns: its gradient does not read it, so it goes.
        let (before, after) = live_after_dropping_the_input(&ctx, |x| build(x, false));
        assert_eq!(before - after, image_bytes, "{name}: the input was kept without need");
        // The parameter learns too: its gradient reads the input, which stays.
        let (before, after) = live_after_dropping_the_input(&ctx, |x| build(x, true));
        assert_eq!(before, after, "{name}: the input its parameter's gradient reads was released");
    }
}
