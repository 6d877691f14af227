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
