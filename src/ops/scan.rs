//! Exclusive prefix sums of u32 values on the GPU (deterministic). Used to
//! turn per-bin counts into bin offsets (the deterministic scatter of the
//! sampler's image adjoint).

use crate::error::Result;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::gpu::{Context, PooledBuffer};

static PREFIX_SUM: Shader = shader!("reduce/prefix_sum.wgsl");

/// Values one thread scans in order (`RUN` in reduce/prefix_sum.wgsl).
const RUN: u32 = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ScanParams {
    len: u32,
    _pad: [u32; 3],
}

fn dispatch(ctx: &Context, entry: &'static str, len: u32, buffers: [&wgpu::Buffer; 3], groups: [u32; 3]) -> Result<()> {
    let kernel = Kernel { shader: &PREFIX_SUM, entry, reads: 1, writes: 2 };
    let params = ScanParams { len, _pad: [0; 3] };
    ctx.dispatch(
        "scan",
        Dispatch { kernel: &kernel, constants: &[], params: params_bytes(&params), buffers: &buffers, groups },
    )
}

/// Writes the exclusive prefix sum of `len` u32 values of `values` to `out`.
pub(crate) fn exclusive_scan(ctx: &Context, values: &wgpu::Buffer, out: &wgpu::Buffer, len: u32) -> Result<()> {
    let runs = len.div_ceil(RUN).max(1);
    let run_sums = ctx.alloc("scan", u64::from(runs) * 4)?;
    dispatch(ctx, "scan_runs", len, [values, out, run_sums.buffer()], grid_1d(runs))?;
    if runs == 1 {
        return Ok(());
    }
    let offsets: PooledBuffer = ctx.alloc("scan", u64::from(runs) * 4)?;
    exclusive_scan(ctx, run_sums.buffer(), offsets.buffer(), runs)?;
    // `add_run_offsets` reads the scanned run sums and adds them in place;
    // its third binding is unused.
    dispatch(ctx, "add_run_offsets", len, [offsets.buffer(), out, ctx.unused_binding()], grid_1d(len))
}

#[cfg(test)]
mod tests {
    use super::exclusive_scan;
    use crate::{Context, Tensor};

    #[test]
    fn exclusive_scan_matches_the_host_at_every_level() {
        let ctx = Context::new().unwrap();
        for len in [1usize, 63, 64, 65, 4095, 4097, 300_001] {
            let values: Vec<u32> = (0..len as u32).map(|i| i.wrapping_mul(2_654_435_761) % 7).collect();
            // u32 values travel in f32 tensors as raw bits
            let bits: Vec<f32> = values.iter().map(|&v| f32::from_bits(v)).collect();
            let input = Tensor::from_slice(&ctx, &bits, &[len]).unwrap();
            let output = Tensor::zeros(&ctx, &[len]).unwrap();
            exclusive_scan(&ctx, input.buffer(), output.buffer(), len as u32).unwrap();
            let got: Vec<u32> = output.to_vec().unwrap().iter().map(|v| v.to_bits()).collect();
            let mut sum = 0u32;
            let want: Vec<u32> = values
                .iter()
                .map(|&v| {
                    let before = sum;
                    sum += v;
                    before
                })
                .collect();
            assert_eq!(got, want, "len {len}");
        }
    }
}
