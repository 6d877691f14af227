//! Exclusive prefix sums of u32 values on the GPU (deterministic). Used to
//! turn per-bin counts into bin offsets (the deterministic scatter of the
//! sampler's image adjoint).

use crate::error::Result;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, grid_for_groups, params_bytes, shader};
use crate::gpu::{Context, PooledBuffer};

static SCAN: Shader = shader!("scan");

/// Values one workgroup scans (`BLOCK` in scan.wgsl).
const BLOCK: u32 = 1024;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ScanParams {
    len: u32,
    off_in: u32,
    off_out: u32,
    _pad: u32,
}

fn dispatch(ctx: &Context, entry: &'static str, len: u32, buffers: [&wgpu::Buffer; 3], groups: [u32; 3]) -> Result<()> {
    let kernel = Kernel { shader: &SCAN, entry, reads: 1, writes: 2 };
    let params = ScanParams { len, off_in: 0, off_out: 0, _pad: 0 };
    ctx.dispatch(
        "scan",
        Dispatch { kernel: &kernel, constants: &[], params: params_bytes(&params), buffers: &buffers, groups },
    )
}

/// Writes the exclusive prefix sum of `len` u32 values of `values` to `out`.
pub(crate) fn exclusive_scan(ctx: &Context, values: &wgpu::Buffer, out: &wgpu::Buffer, len: u32) -> Result<()> {
    let blocks = len.div_ceil(BLOCK).max(1);
    let block_sums = ctx.alloc("scan", u64::from(blocks) * 4)?;
    dispatch(ctx, "scan_blocks", len, [values, out, block_sums.buffer()], grid_for_groups(blocks))?;
    if blocks == 1 {
        return Ok(());
    }
    let offsets: PooledBuffer = ctx.alloc("scan", u64::from(blocks) * 4)?;
    exclusive_scan(ctx, block_sums.buffer(), offsets.buffer(), blocks)?;
    // `add_block_offsets` reads the scanned block sums and adds them in place;
    // its third binding is unused.
    let spare = ctx.alloc("scan", 4)?;
    dispatch(ctx, "add_block_offsets", len, [offsets.buffer(), out, spare.buffer()], grid_1d(len))
}
