//! The GPU context: adapter and device selection, the pipeline cache, the
//! buffer pool, command batching, uploads, readback and counters.

pub(crate) mod kernel;
mod pool;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) use kernel::{Dispatch, PARAMS_SIZE};
pub use pool::MemoryStats;
pub(crate) use pool::PooledBuffer;

use crate::error::{Error, Result};
use kernel::{CachedPipeline, PipelineCache};
use pool::Pool;

/// Dispatches and copies recorded before the open batch is submitted on its own.
const MAX_BATCH_COMMANDS: u32 = 1024;

/// Which device limits to request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitsPreset {
    /// `wgpu::Limits::default()`, the WebGPU baseline every device offers
    /// (128 MiB per binding, 8 storage buffers per stage). Code that runs
    /// here runs everywhere. Falls back to the adapter's limits on adapters
    /// below the baseline (some GL drivers).
    #[default]
    WebGpuDefault,
    /// Everything the adapter offers (e.g. larger bindings on desktop GPUs).
    Adapter,
}

/// How [`Context::with_options`] picks and opens a device.
#[derive(Clone, Debug, Default)]
pub struct ContextOptions {
    /// Backends to consider; `None` honours `WGPU_BACKEND` and otherwise tries all.
    pub backends: Option<wgpu::Backends>,
    /// Limits to request.
    pub limits: LimitsPreset,
}

/// Counters of GPU traffic since the context was made ([`Context::stats`]).
///
/// Tests use them to prove "one submit for a chain of ops" or "no readback
/// in a training step": take two snapshots and subtract with [`Stats::since`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Command buffers submitted.
    pub submits: u64,
    /// Compute dispatches recorded.
    pub dispatches: u64,
    /// Host-to-GPU uploads.
    pub uploads: u64,
    /// GPU-to-host readbacks.
    pub readbacks: u64,
    /// Bytes uploaded.
    pub bytes_uploaded: u64,
    /// Bytes read back.
    pub bytes_read_back: u64,
    /// GPU buffers created because the pool had none of the size.
    pub buffers_created: u64,
}

impl Stats {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Stats) -> Stats {
        Stats {
            submits: self.submits - earlier.submits,
            dispatches: self.dispatches - earlier.dispatches,
            uploads: self.uploads - earlier.uploads,
            readbacks: self.readbacks - earlier.readbacks,
            bytes_uploaded: self.bytes_uploaded - earlier.bytes_uploaded,
            bytes_read_back: self.bytes_read_back - earlier.bytes_read_back,
            buffers_created: self.buffers_created - earlier.buffers_created,
        }
    }
}

#[derive(Default)]
struct Counters {
    submits: AtomicU64,
    dispatches: AtomicU64,
    uploads: AtomicU64,
    readbacks: AtomicU64,
    bytes_uploaded: AtomicU64,
    bytes_read_back: AtomicU64,
    buffers_created: AtomicU64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// The open command encoder and the parameter blocks of its dispatches.
/// Parameters are written to `uniforms` with `queue.write_buffer` just
/// before the batch is submitted: such a write lands before the batch's
/// commands and after every earlier submit, which is exactly what they need.
/// Consecutive dispatches share one compute pass (`pass`, ended before a
/// copy or the submit); wgpu orders dispatches within a pass as it does passes.
#[derive(Default)]
struct Batch {
    encoder: Option<wgpu::CommandEncoder>,
    pass: Option<wgpu::ComputePass<'static>>,
    uniforms: Option<wgpu::Buffer>,
    params: Vec<u8>,
    commands: u32,
}

struct Inner {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    pipelines: Mutex<PipelineCache>,
    pool: Pool,
    batch: Mutex<Batch>,
    counters: Counters,
    /// Errors from the uncaptured-error handler, on devices pixgrad opened.
    gpu_errors: Arc<Mutex<Vec<String>>>,
    /// Per-kernel times when `PIXGRAD_PROFILE` is set (see [`Context::profile`]).
    profile: Option<Mutex<Vec<KernelTime>>>,
    /// Bound where a kernel entry does not use a binding (see [`Context::unused_binding`]).
    unused: wgpu::Buffer,
    /// The workgroup counts of an indirect dispatch (see [`Context::dispatch_indirect`]).
    indirect_args: wgpu::Buffer,
}

/// Time the GPU spent in one kernel (an op's entry point), summed over calls.
/// Collected only when the `PIXGRAD_PROFILE` environment variable is set at
/// [`Context`] creation: every dispatch is then submitted and waited for on
/// its own, so the times are exact per kernel but the whole runs slower.
/// Dispatches recorded into a caller's encoder are not timed.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelTime {
    /// The op that recorded the dispatch.
    pub op: &'static str,
    /// The shader entry point.
    pub entry: &'static str,
    /// Dispatches timed.
    pub calls: u64,
    /// Wall time from submit to completion, summed.
    pub total: std::time::Duration,
}

/// A GPU device with pixgrad's pipeline cache, buffer pool and open command batch.
///
/// Cheap to clone (an `Arc`), `Send + Sync`. Work from all clones and
/// threads is recorded into one open command encoder, submitted when a value
/// is read back, on [`flush`](Self::flush), or after 1024 commands.
///
/// ```
/// let ctx = pixgrad::Context::new()?;
/// println!("running on {}", ctx.adapter_info().name);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("adapter", &self.inner.info.name)
            .field("backend", &self.inner.info.backend)
            .finish()
    }
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Preference order: hardware GPUs, then software Vulkan, then anything else.
fn adapter_rank(info: &wgpu::AdapterInfo) -> u32 {
    use wgpu::DeviceType::*;
    match (info.device_type, info.backend) {
        (DiscreteGpu, _) => 0,
        (IntegratedGpu, _) => 1,
        (VirtualGpu, _) => 2,
        (Other, _) => 3,
        (Cpu, wgpu::Backend::Vulkan) => 4,
        (Cpu, _) => 5,
    }
}

impl Context {
    /// Opens the best adapter available: a hardware GPU, else software
    /// Vulkan (lavapipe), else GL (llvmpipe). Honours `WGPU_BACKEND`.
    /// Requests the WebGPU default limits.
    pub fn new() -> Result<Context> {
        Self::with_options(ContextOptions::default())
    }

    /// Like [`new`](Self::new), with a choice of backends and limits.
    pub fn with_options(options: ContextOptions) -> Result<Context> {
        Self::open(options, false).map(|(ctx, ..)| ctx)
    }

    /// [`with_options`](Self::with_options), also returning the instance and
    /// adapter, for sharing the device with another library; with
    /// `all_features` the device gets every feature the adapter offers (the
    /// other library's kernels may rely on them, e.g. 64-bit integers).
    pub(crate) fn open(
        options: ContextOptions,
        all_features: bool,
    ) -> Result<(Context, wgpu::Instance, wgpu::Adapter)> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        if let Some(backends) = options.backends {
            desc.backends = backends;
        }
        let tried = format!("{:?}", desc.backends);
        let instance = wgpu::Instance::new(desc);
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let adapter = adapters
            .into_iter()
            .filter(|a| a.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS))
            .min_by_key(|a| adapter_rank(&a.get_info()))
            .ok_or(Error::NoAdapter { tried })?;
        let info = adapter.get_info();
        let wanted = wgpu::Limits::default();
        let limits = match options.limits {
            LimitsPreset::WebGpuDefault if wanted.check_limits(&adapter.limits()) => wanted,
            _ => adapter.limits(),
        };
        // Optional features are taken when offered and never required.
        let optional =
            wgpu::Features::SHADER_FLOAT32_ATOMIC | wgpu::Features::SUBGROUP | wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("pixgrad"),
            required_features: if all_features { adapter.features() } else { adapter.features() & optional },
            required_limits: limits,
            ..Default::default()
        }))
        .map_err(|e| Error::DeviceRequest {
            adapter: format!("{} ({:?})", info.name, info.backend),
            reason: e.to_string(),
        })?;
        let gpu_errors = Arc::new(Mutex::new(Vec::new()));
        let sink = gpu_errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            lock(&sink).push(e.to_string());
        }));
        Ok((Self::build(device, queue, info, gpu_errors), instance, adapter))
    }

    /// Wraps a caller's device and queue, so pixgrad's kernels run on the
    /// same device as the caller's own work and share its buffers.
    ///
    /// The caller's uncaptured-error handler stays in place; pixgrad checks
    /// its arguments so that it never submits invalid work.
    pub fn from_wgpu(device: wgpu::Device, queue: wgpu::Queue) -> Context {
        let info = device.adapter_info();
        Self::build(device, queue, info, Arc::new(Mutex::new(Vec::new())))
    }

    fn build(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: wgpu::AdapterInfo,
        gpu_errors: Arc<Mutex<Vec<String>>>,
    ) -> Context {
        let unused = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pixgrad unused binding"),
            size: 16,
            usage: pool::BUFFER_USAGE,
            mapped_at_creation: false,
        });
        // Pool buffers lack INDIRECT usage (measured slower on lavapipe with it).
        let indirect_args = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pixgrad indirect arguments"),
            size: 16,
            usage: wgpu::BufferUsages::INDIRECT | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Context {
            inner: Arc::new(Inner {
                device,
                queue,
                info,
                pipelines: Mutex::default(),
                pool: Pool::default(),
                batch: Mutex::default(),
                counters: Counters::default(),
                gpu_errors,
                profile: std::env::var_os("PIXGRAD_PROFILE").map(|_| Mutex::default()),
                unused,
                indirect_args,
            }),
        }
    }

    /// A 16-byte buffer for the bindings a kernel entry declares but does
    /// not use (an output it skips, a vec4 view off the vec4 path). One
    /// dispatch may bind it in several writable slots (wgpu allows one
    /// buffer in several writable bindings) or in read-only slots, never in
    /// both at once; nothing ever reads what lands in it.
    pub(crate) fn unused_binding(&self) -> &wgpu::Buffer {
        &self.inner.unused
    }

    /// The adapter in use: name, backend (Vulkan, Metal, Dx12, Gl), device type.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.inner.info
    }

    /// The device's limits.
    pub fn limits(&self) -> wgpu::Limits {
        self.inner.device.limits()
    }

    /// Optional features the device was opened with (float atomics,
    /// subgroups, timestamps where offered); kernels never require them.
    pub fn features(&self) -> wgpu::Features {
        self.inner.device.features()
    }

    /// The wgpu device, for callers that record their own work beside ours.
    pub fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    /// Counters of GPU traffic since the context was made.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            submits: get(&c.submits),
            dispatches: get(&c.dispatches),
            uploads: get(&c.uploads),
            readbacks: get(&c.readbacks),
            bytes_uploaded: get(&c.bytes_uploaded),
            bytes_read_back: get(&c.bytes_read_back),
            buffers_created: get(&c.buffers_created),
        }
    }

    /// Live, peak and cached bytes of the buffer pool.
    pub fn memory(&self) -> MemoryStats {
        self.inner.pool.stats()
    }

    /// Starts a new peak measurement at the current live bytes.
    pub fn reset_peak(&self) {
        self.inner.pool.reset_peak()
    }

    /// Frees the pool's cached (unused) buffers.
    pub fn release_cached(&self) {
        self.inner.pool.release_cached()
    }

    /// Submits all recorded work and reports GPU errors raised so far.
    /// Does not wait for the GPU.
    pub fn flush(&self) -> Result<()> {
        let mut batch = lock(&self.inner.batch);
        self.submit_locked(&mut batch);
        drop(batch);
        self.take_gpu_errors()
    }

    /// Per-kernel GPU times since the context was made or [`reset_profile`](Self::reset_profile)
    /// was called, largest first; empty unless `PIXGRAD_PROFILE` was set when
    /// the context was made (see [`KernelTime`]).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let x = pixgrad::Tensor::ones(&ctx, &[4])?.exp()?;
    /// for t in ctx.profile() {
    ///     println!("{:>10.3} ms {:>5}× {}/{}", t.total.as_secs_f64() * 1e3, t.calls, t.op, t.entry);
    /// }
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn profile(&self) -> Vec<KernelTime> {
        let mut times = self.inner.profile.as_ref().map(|p| lock(p).clone()).unwrap_or_default();
        times.sort_by_key(|t| std::cmp::Reverse(t.total));
        times
    }

    /// Clears the times [`profile`](Self::profile) reports.
    pub fn reset_profile(&self) {
        if let Some(profile) = &self.inner.profile {
            lock(profile).clear();
        }
    }

    /// Submits, then blocks until the GPU has finished all submitted work.
    pub fn synchronize(&self) -> Result<()> {
        self.flush()?;
        self.wait()?;
        self.take_gpu_errors()
    }

    fn wait(&self) -> Result<()> {
        self.inner.device.poll(wgpu::PollType::wait_indefinitely()).map(|_| ()).map_err(|e| Error::Gpu(e.to_string()))
    }

    fn take_gpu_errors(&self) -> Result<()> {
        let mut errors = lock(&self.inner.gpu_errors);
        if errors.is_empty() {
            return Ok(());
        }
        let message = errors.join("; ");
        errors.clear();
        Err(Error::Gpu(message))
    }

    fn submit_locked(&self, batch: &mut Batch) {
        batch.pass = None;
        let Some(encoder) = batch.encoder.take() else {
            return;
        };
        if let Some(uniforms) = batch.uniforms.take() {
            self.inner.queue.write_buffer(&uniforms, 0, &batch.params);
        }
        batch.params.clear();
        batch.commands = 0;
        self.inner.queue.submit([encoder.finish()]);
        bump(&self.inner.counters.submits, 1);
        // Reclaims what finished submissions held (bind groups, staging
        // buffers) without waiting, so long loops that never read back stay flat.
        let _ = self.inner.device.poll(wgpu::PollType::Poll);
    }

    /// The open encoder, for a copy: ends the open compute pass first.
    fn open_batch<'a>(&self, batch: &'a mut Batch) -> &'a mut wgpu::CommandEncoder {
        batch.pass = None;
        batch.encoder.get_or_insert_with(|| {
            self.inner.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("pixgrad batch") })
        })
    }

    /// The open compute pass, begun on the open encoder if needed.
    fn open_pass<'a>(&self, batch: &'a mut Batch) -> &'a mut wgpu::ComputePass<'static> {
        if batch.pass.is_none() {
            let pass = self
                .open_batch(batch)
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("pixgrad"), timestamp_writes: None })
                .forget_lifetime();
            batch.pass = Some(pass);
        }
        batch.pass.as_mut().expect("just opened")
    }

    fn after_command(&self, batch: &mut Batch) {
        batch.commands += 1;
        if batch.commands >= MAX_BATCH_COMMANDS {
            self.submit_locked(batch);
        }
    }

    /// Checks that `bytes` fit one storage binding of this device.
    pub(crate) fn check_binding_size(&self, op: &'static str, bytes: u64) -> Result<()> {
        let limit = self.inner.device.limits().max_storage_buffer_binding_size;
        if bytes > limit {
            return Err(Error::TooLarge { op, bytes, limit_name: "max_storage_buffer_binding_size", limit });
        }
        Ok(())
    }

    /// A pooled storage buffer of at least `bytes` (uninitialised contents).
    pub(crate) fn alloc(&self, op: &'static str, bytes: u64) -> Result<PooledBuffer> {
        self.check_binding_size(op, bytes)?;
        let limits = self.inner.device.limits();
        let max = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        let (buffer, created) = self.inner.pool.take(&self.inner.device, bytes, max);
        if created {
            bump(&self.inner.counters.buffers_created, 1);
        }
        Ok(buffer)
    }

    /// Records a copy of `data` into `dst` at `offset` bytes. The data goes
    /// through a fresh staging buffer copied inside the open batch, so it
    /// lands after all work recorded before it and before all work after.
    pub(crate) fn upload(&self, data: &[u8], dst: &wgpu::Buffer, offset: u64) {
        if data.is_empty() {
            return;
        }
        let size = (data.len() as u64).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        let staging = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pixgrad upload"),
            size,
            usage: wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: true,
        });
        {
            let mut view =
                staging.slice(..).get_mapped_range_mut().expect("a buffer mapped at creation has a mapped range");
            view.slice(..data.len()).copy_from_slice(data);
        }
        staging.unmap();
        let mut batch = lock(&self.inner.batch);
        self.open_batch(&mut batch).copy_buffer_to_buffer(&staging, 0, dst, offset, size);
        self.after_command(&mut batch);
        bump(&self.inner.counters.uploads, 1);
        bump(&self.inner.counters.bytes_uploaded, data.len() as u64);
    }

    /// Records a buffer-to-buffer copy (sizes in bytes, multiples of 4).
    pub(crate) fn copy(&self, src: &wgpu::Buffer, src_offset: u64, dst: &wgpu::Buffer, dst_offset: u64, size: u64) {
        let mut batch = lock(&self.inner.batch);
        self.open_batch(&mut batch).copy_buffer_to_buffer(src, src_offset, dst, dst_offset, size);
        self.after_command(&mut batch);
    }

    /// Records zeroing `size` bytes of `buffer` from `offset` (multiples of 4).
    pub(crate) fn clear(&self, buffer: &wgpu::Buffer, offset: u64, size: u64) {
        let mut batch = lock(&self.inner.batch);
        self.open_batch(&mut batch).clear_buffer(buffer, offset, Some(size));
        self.after_command(&mut batch);
    }

    /// Submits everything recorded, then copies `size` bytes of `src` from
    /// `offset` back to the host. This is the one place that waits.
    pub(crate) fn read(&self, src: &wgpu::Buffer, offset: u64, size: u64) -> Result<Vec<u8>> {
        let padded = size.next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        let staging = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pixgrad readback"),
            size: padded.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        {
            let mut batch = lock(&self.inner.batch);
            if padded > 0 {
                self.open_batch(&mut batch).copy_buffer_to_buffer(src, offset, &staging, 0, padded);
            }
            self.submit_locked(&mut batch);
        }
        self.take_gpu_errors()?;
        let (sender, receiver) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
        self.wait()?;
        receiver
            .recv()
            .map_err(|e| Error::Gpu(format!("readback never completed: {e}")))?
            .map_err(|e| Error::Gpu(format!("readback failed: {e}")))?;
        let bytes = staging.slice(..).get_mapped_range().map_err(|e| Error::Gpu(format!("readback failed: {e}")))?
            [..size as usize]
            .to_vec();
        staging.unmap();
        bump(&self.inner.counters.readbacks, 1);
        bump(&self.inner.counters.bytes_read_back, size);
        self.take_gpu_errors()?;
        Ok(bytes)
    }

    /// Records one dispatch into the open batch.
    pub(crate) fn dispatch(&self, op: &'static str, dispatch: Dispatch<'_>) -> Result<()> {
        self.record(op, dispatch, None)
    }

    /// Records one dispatch into the open batch whose workgroup counts the
    /// GPU reads from `counts` at byte `offset` (three u32, x y z, written
    /// by an earlier kernel; `dispatch.groups` is ignored): work sized by
    /// values that stay on the GPU. They are copied into the context's
    /// arguments buffer first, in the same batch step, so that no other
    /// thread's indirect dispatch comes between.
    pub(crate) fn dispatch_indirect(
        &self,
        op: &'static str,
        dispatch: Dispatch<'_>,
        counts: &wgpu::Buffer,
        offset: u64,
    ) -> Result<()> {
        dispatch.validate(op)?;
        let pipeline = lock(&self.inner.pipelines).get(&self.inner.device, dispatch.kernel, dispatch.constants);
        let args = &self.inner.indirect_args;
        {
            let mut batch = lock(&self.inner.batch);
            self.open_batch(&mut batch).copy_buffer_to_buffer(counts, offset, args, 0, 12);
            self.after_command(&mut batch);
            self.record_batched_locked(op, &mut batch, &pipeline, &dispatch, Some(args))?;
        }
        bump(&self.inner.counters.dispatches, 1);
        Ok(())
    }

    /// Records one dispatch into `encoder` when given, else into the open batch.
    pub(crate) fn record(
        &self,
        op: &'static str,
        dispatch: Dispatch<'_>,
        encoder: Option<&mut wgpu::CommandEncoder>,
    ) -> Result<()> {
        dispatch.validate(op)?;
        let pipeline = lock(&self.inner.pipelines).get(&self.inner.device, dispatch.kernel, dispatch.constants);
        match encoder {
            Some(encoder) => self.record_into(encoder, &pipeline, &dispatch),
            None => self.record_batched_locked(op, &mut lock(&self.inner.batch), &pipeline, &dispatch, None)?,
        }
        bump(&self.inner.counters.dispatches, 1);
        Ok(())
    }

    /// The bind group of a dispatch: its parameter block at binding 0, then its buffers.
    fn bind_group(
        &self,
        pipeline: &CachedPipeline,
        dispatch: &Dispatch<'_>,
        uniforms: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: uniforms,
                offset: 0,
                size: wgpu::BufferSize::new(PARAMS_SIZE as u64),
            }),
        }];
        entries.extend(
            dispatch.buffers.iter().enumerate().map(|(i, buffer)| wgpu::BindGroupEntry {
                binding: 1 + i as u32,
                resource: buffer.as_entire_binding(),
            }),
        );
        self.inner.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.layout,
            entries: &entries,
        })
    }

    /// Records a dispatch into a caller's encoder. Its parameters get a
    /// buffer of their own, filled at creation, before any command can read it.
    fn record_into(&self, encoder: &mut wgpu::CommandEncoder, pipeline: &CachedPipeline, dispatch: &Dispatch<'_>) {
        let uniforms = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("pixgrad params"),
            size: PARAMS_SIZE as u64,
            usage: wgpu::BufferUsages::UNIFORM,
            mapped_at_creation: true,
        });
        uniforms
            .slice(..)
            .get_mapped_range_mut()
            .expect("a buffer mapped at creation has a mapped range")
            .slice(..)
            .copy_from_slice(&dispatch.params);
        uniforms.unmap();
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(dispatch.kernel.entry),
            timestamp_writes: None,
        });
        encode(&mut pass, pipeline, dispatch, &self.bind_group(pipeline, dispatch, &uniforms), 0, None);
    }

    /// Appends a dispatch to the open batch (locked by the caller), its
    /// workgroup counts read from `indirect` when given; when profiling,
    /// submits it alone (earlier work first) and adds its time to the kernel's.
    fn record_batched_locked(
        &self,
        op: &'static str,
        batch: &mut Batch,
        pipeline: &CachedPipeline,
        dispatch: &Dispatch<'_>,
        indirect: Option<&wgpu::Buffer>,
    ) -> Result<()> {
        let profiling = match &self.inner.profile {
            Some(profile) => {
                self.submit_locked(batch);
                self.wait()?;
                Some((profile, std::time::Instant::now()))
            }
            None => None,
        };
        let device = &self.inner.device;
        let uniforms = batch
            .uniforms
            .get_or_insert_with(|| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("pixgrad batch params"),
                    size: (MAX_BATCH_COMMANDS as usize * PARAMS_SIZE) as u64,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .clone();
        let offset = batch.params.len() as u32;
        batch.params.extend_from_slice(&dispatch.params);
        let group = self.bind_group(pipeline, dispatch, &uniforms);
        encode(self.open_pass(batch), pipeline, dispatch, &group, offset, indirect);
        self.after_command(batch);
        if let Some((profile, start)) = profiling {
            self.submit_locked(batch);
            self.wait()?;
            add_kernel_time(&mut lock(profile), op, dispatch.kernel.entry, start.elapsed());
        }
        Ok(())
    }
}

/// Sets the pipeline and bind group (its parameters at `offset`) and
/// dispatches, `dispatch.groups` or the counts in `indirect`.
fn encode(
    pass: &mut wgpu::ComputePass<'_>,
    pipeline: &CachedPipeline,
    dispatch: &Dispatch<'_>,
    group: &wgpu::BindGroup,
    offset: u32,
    indirect: Option<&wgpu::Buffer>,
) {
    pass.set_pipeline(&pipeline.pipeline);
    pass.set_bind_group(0, group, &[offset]);
    match indirect {
        Some(args) => pass.dispatch_workgroups_indirect(args, 0),
        None => {
            let [x, y, z] = dispatch.groups;
            pass.dispatch_workgroups(x, y, z);
        }
    }
}

/// Adds one timed call of `op`'s `entry` to the profile.
fn add_kernel_time(times: &mut Vec<KernelTime>, op: &'static str, entry: &'static str, elapsed: std::time::Duration) {
    match times.iter_mut().find(|t| t.op == op && t.entry == entry) {
        Some(t) => {
            t.calls += 1;
            t.total += elapsed;
        }
        None => times.push(KernelTime { op, entry, calls: 1, total: elapsed }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Context>();
    }
}
