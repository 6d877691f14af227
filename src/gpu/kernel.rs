//! Compute kernels: WGSL sources, the pipeline cache and dispatch recording.
//!
//! Binding convention of every kernel: `@binding(0)` is a uniform block of
//! parameters (at most [`PARAMS_SIZE`] bytes), then `reads` read-only storage
//! buffers, then `writes` read-write storage buffers, all in group 0.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Size of one parameter block: the uniform offset alignment every device supports.
pub(crate) const PARAMS_SIZE: usize = 256;
/// Threads per workgroup of the 1-D kernels (WebGPU's default limit).
pub(crate) const WORKGROUP: u32 = 256;

/// A WGSL module: the shared prelude (`shaders/lib/prelude.wgsl`) plus one file.
#[derive(Debug)]
pub struct Shader {
    /// Path under `shaders/`, e.g. `warp/grid_sample.wgsl`.
    pub name: &'static str,
    /// Full WGSL source, prelude included.
    pub source: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/shaders.rs"));
pub(crate) use shader_source;

/// `shader!("family/kernel.wgsl")`: the kernel under `shaders/` composed
/// with the prelude and the snippets its `// import` lines name (build.rs).
macro_rules! shader {
    ($name:tt) => {
        $crate::gpu::kernel::Shader { name: $name, source: $crate::gpu::kernel::shader_source!($name) }
    };
}
pub(crate) use shader;

/// One entry point of a shader and its binding counts.
#[derive(Debug)]
pub(crate) struct Kernel {
    pub shader: &'static Shader,
    pub entry: &'static str,
    pub reads: u32,
    pub writes: u32,
}

type PipelineKey = (&'static str, &'static str, Vec<(&'static str, u32)>);

pub(crate) struct CachedPipeline {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

/// Compiled pipelines, by shader, entry point and constants.
#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: HashMap<&'static str, wgpu::ShaderModule>,
    pipelines: HashMap<PipelineKey, Arc<CachedPipeline>>,
}

impl PipelineCache {
    pub(crate) fn get(
        &mut self,
        device: &wgpu::Device,
        kernel: &Kernel,
        constants: &[(&'static str, u32)],
    ) -> Arc<CachedPipeline> {
        let key = (kernel.shader.name, kernel.entry, constants.to_vec());
        if let Some(found) = self.pipelines.get(&key) {
            return found.clone();
        }
        let module = self
            .modules
            .entry(kernel.shader.name)
            .or_insert_with(|| {
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(kernel.shader.name),
                    source: wgpu::ShaderSource::Wgsl(kernel.shader.source.into()),
                })
            })
            .clone();
        let layout = bind_group_layout(device, kernel.reads, kernel.writes);
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(kernel.entry),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let overrides: Vec<(&str, f64)> = constants.iter().map(|&(name, value)| (name, f64::from(value))).collect();
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.entry),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(kernel.entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &overrides,
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        let cached = Arc::new(CachedPipeline { pipeline, layout });
        self.pipelines.insert(key, cached.clone());
        cached
    }
}

fn bind_group_layout(device: &wgpu::Device, reads: u32, writes: u32) -> wgpu::BindGroupLayout {
    let storage = |binding, read_only| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let mut entries = vec![wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: true,
            min_binding_size: wgpu::BufferSize::new(PARAMS_SIZE as u64),
        },
        count: None,
    }];
    entries.extend((0..reads).map(|i| storage(1 + i, true)));
    entries.extend((0..writes).map(|i| storage(1 + reads + i, false)));
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: None, entries: &entries })
}

/// Workgroup counts covering `threads` invocations of a 1-D kernel. Past
/// 65535 workgroups the grid wraps into y; shaders rebuild the linear index
/// from `num_workgroups` (see `thread_index` in `lib/prelude.wgsl`).
pub(crate) fn grid_1d(threads: u32) -> [u32; 3] {
    grid_for_groups(threads.div_ceil(WORKGROUP))
}

/// A grid of at least `groups` workgroups, wrapped into y past 65535 and
/// balanced so that at most `y - 1` workgroups are spare.
pub(crate) fn grid_for_groups(groups: u32) -> [u32; 3] {
    const MAX: u32 = 65535;
    let rows = groups.div_ceil(MAX).max(1);
    [groups.div_ceil(rows).max(1), rows, 1]
}

/// Workgroups for a per-item kernel: pixels along x (wrapping into z past
/// 65535 workgroups), one item per y (see `pixel_index` in `lib/prelude.wgsl`).
pub(crate) fn grid_items(pixels: u32, items: u32) -> [u32; 3] {
    let [x, z, _] = grid_for_groups(pixels.div_ceil(WORKGROUP));
    [x, items, z]
}

/// Packs a parameter struct into one uniform block.
pub(crate) fn params_bytes<T: bytemuck::Pod>(params: &T) -> [u8; PARAMS_SIZE] {
    let bytes = bytemuck::bytes_of(params);
    assert!(bytes.len() <= PARAMS_SIZE, "parameter block larger than {PARAMS_SIZE} bytes");
    let mut block = [0u8; PARAMS_SIZE];
    block[..bytes.len()].copy_from_slice(bytes);
    block
}

/// One dispatch, ready to record.
pub(crate) struct Dispatch<'a> {
    pub kernel: &'a Kernel,
    pub constants: &'a [(&'static str, u32)],
    pub params: [u8; PARAMS_SIZE],
    /// Read-only buffers first, then read-write ones, as the kernel declares.
    pub buffers: &'a [&'a wgpu::Buffer],
    pub groups: [u32; 3],
}

impl Dispatch<'_> {
    /// Rejects what wgpu would reject at submit: a wrong number of buffers,
    /// buffers without STORAGE usage, a written buffer also bound read-only.
    pub(crate) fn validate(&self, op: &'static str) -> Result<()> {
        let kernel = self.kernel;
        if self.buffers.len() != (kernel.reads + kernel.writes) as usize {
            return Err(Error::InvalidArgument {
                op,
                name: "buffers",
                reason: format!(
                    "kernel {} takes {} buffers, got {}",
                    kernel.entry,
                    kernel.reads + kernel.writes,
                    self.buffers.len()
                ),
            });
        }
        for buffer in self.buffers {
            if !buffer.usage().contains(wgpu::BufferUsages::STORAGE) {
                return Err(Error::InvalidArgument {
                    op,
                    name: "buffers",
                    reason: "every buffer needs BufferUsages::STORAGE".into(),
                });
            }
        }
        // wgpu rejects a buffer that is both read-only and written in one
        // dispatch; two writable views of one buffer (an f32 and a vec4 view
        // of an output) share one usage and are allowed.
        let (read, written) = self.buffers.split_at(kernel.reads as usize);
        if written.iter().any(|w| read.contains(w)) {
            return Err(Error::InvalidArgument {
                op,
                name: "buffers",
                reason: "an output buffer is also bound as an input".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::grid_for_groups;

    #[test]
    fn grids_cover_every_workgroup_with_little_spare() {
        for groups in [0u32, 1, 255, 65535, 65536, 65537, 1 << 20, 3_000_001] {
            let [x, y, z] = grid_for_groups(groups);
            assert!(x <= 65535 && y <= 65535 && z == 1);
            assert!(x * y >= groups.max(1) && x * y - groups.max(1) < y, "{groups}: {x}x{y}");
        }
    }
}
