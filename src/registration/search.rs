//! A translation to start registration from: the normalised
//! cross-correlation of grey copies of the two images at every integer
//! shift up to half their size, computed on a small copy (Gaussian pyramid
//! down to at most 64 pixels a side), one GPU thread per shift
//! (`shaders/registration/shift_search.wgsl`), the best shift refined to
//! sub-pixel by a parabola through its neighbours. This is the direct-space
//! counterpart of phase correlation: on 64² copies the 4225 shifts cost
//! about as much as two FFTs, without a GPU FFT, and the overlap-normalised
//! score does not favour small shifts the way an unwindowed correlation does.

use crate::BorderType;
use crate::error::Result;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::ops::image_shape;
use crate::tensor::Tensor;

static SHIFT_SEARCH: Shader = shader!("registration/shift_search.wgsl");

/// The small copies' largest side.
const SEARCH_SIDE: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct SearchParams {
    batch: u32,
    width: u32,
    height: u32,
    reach_x: u32,
    reach_y: u32,
    min_overlap: u32,
    absolute: u32,
    _pad: u32,
}

/// Grey copies `[N, 1, h, w]` with the largest side at most 64.
fn small_grey(img: &Tensor) -> Result<Tensor> {
    let [n, c, mut h, mut w] = image_shape("register", img)?;
    let mut grey = img.sum_to_shape(&[n, 1, h, w])?.mul_scalar(1.0 / c as f32)?;
    while h.max(w) > SEARCH_SIDE && h.min(w) >= 16 {
        grey = grey.pyr_down(BorderType::Reflect, false)?;
        [_, _, h, w] = image_shape("register", &grey)?;
    }
    Ok(grey)
}

/// Per image, the shift `t` (full-resolution pixels, `[x, y]`) for which
/// `moving(p + t)` best matches `fixed(p)`, searched over shifts up to half
/// the image with at least a quarter of it overlapping. `absolute` scores
/// `|NCC|`, for intensities that may be inverted.
pub(super) fn search_translation(moving: &Tensor, fixed: &Tensor, absolute: bool) -> Result<Vec<[f64; 2]>> {
    let [n, _, full_h, full_w] = image_shape("register", fixed)?;
    let (small_moving, small_fixed) = (small_grey(moving)?, small_grey(fixed)?);
    let [_, _, h, w] = image_shape("register", &small_fixed)?;
    let (reach_x, reach_y) = (w / 2, h / 2);
    let (span_x, span_y) = (2 * reach_x + 1, 2 * reach_y + 1);
    let params = SearchParams {
        batch: n as u32,
        width: w as u32,
        height: h as u32,
        reach_x: reach_x as u32,
        reach_y: reach_y as u32,
        min_overlap: (w * h).div_ceil(4) as u32,
        absolute: absolute as u32,
        _pad: 0,
    };
    let ctx = fixed.context();
    let scores = Tensor::uninit(ctx, "register", &[n, span_y * span_x])?;
    let dispatch = Dispatch {
        kernel: &Kernel { shader: &SHIFT_SEARCH, entry: "search", reads: 2, writes: 1 },
        constants: &[],
        params: params_bytes(&params),
        buffers: &[small_moving.buffer(), small_fixed.buffer(), scores.buffer()],
        groups: grid_1d((n * span_x * span_y) as u32),
    };
    ctx.dispatch("register", dispatch)?;
    let scores = scores.to_vec()?;
    let (scale_x, scale_y) = (full_w as f64 / w as f64, full_h as f64 / h as f64);
    Ok(scores
        .chunks(span_x * span_y)
        .map(|item| {
            // The first best score in order (deterministic on ties).
            let best = item.iter().enumerate().fold(0, |b, (i, &s)| if s > item[b] { i } else { b });
            let (bx, by) = (best % span_x, best / span_x);
            let at = |x: usize, y: usize| f64::from(item[y * span_x + x]);
            // A parabola through the peak and its neighbours (valid ones only).
            let refine = |left: Option<f64>, right: Option<f64>| match (left, right) {
                (Some(l), Some(r)) if l > -2.0 && r > -2.0 => {
                    let c = at(bx, by);
                    let curvature = l - 2.0 * c + r;
                    if curvature < 0.0 { (0.5 * (l - r) / curvature).clamp(-0.5, 0.5) } else { 0.0 }
                }
                _ => 0.0,
            };
            let fx = refine((bx > 0).then(|| at(bx - 1, by)), (bx + 1 < span_x).then(|| at(bx + 1, by)));
            let fy = refine((by > 0).then(|| at(bx, by - 1)), (by + 1 < span_y).then(|| at(bx, by + 1)));
            let tx = bx as f64 - reach_x as f64 + fx;
            let ty = by as f64 - reach_y as f64 + fy;
            [tx * scale_x, ty * scale_y]
        })
        .collect())
}
