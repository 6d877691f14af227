//! Buffer pool: storage buffers are recycled by size class instead of being
//! created per op. A buffer goes back to the pool when its last handle drops,
//! even if recorded-but-unsubmitted work still reads it: every later use is
//! recorded after that work on the same queue, so it runs after it too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Live and peak bytes of the buffer pool ([`Context::memory`](crate::Context::memory)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes in buffers currently held by tensors or kernels (by size class).
    pub live: u64,
    /// The highest `live` seen since the context was made or [`reset_peak`](crate::Context::reset_peak).
    pub peak: u64,
    /// Bytes in free buffers kept for reuse.
    pub cached: u64,
}

pub(crate) const BUFFER_USAGE: wgpu::BufferUsages =
    wgpu::BufferUsages::STORAGE.union(wgpu::BufferUsages::COPY_SRC).union(wgpu::BufferUsages::COPY_DST);

#[derive(Default)]
struct PoolState {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    stats: MemoryStats,
}

/// The pool shared by a context and every buffer it handed out.
#[derive(Clone, Default)]
pub(crate) struct Pool {
    state: Arc<Mutex<PoolState>>,
}

/// A storage buffer borrowed from the pool; returned to it on drop.
pub(crate) struct PooledBuffer {
    buffer: wgpu::Buffer,
    class: u64,
    pool: Pool,
}

impl PooledBuffer {
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        state.stats.live -= self.class;
        state.stats.cached += self.class;
        state.free.entry(self.class).or_default().push(self.buffer.clone());
    }
}

/// Rounds a request up to its size class: powers of two up to 4 KiB, then
/// four classes per octave, so at most 19% of a large buffer is slack.
pub(crate) fn size_class(bytes: u64) -> u64 {
    let bytes = bytes.max(256);
    if bytes <= 4096 {
        return bytes.next_power_of_two();
    }
    let octave = 1u64 << (63 - bytes.leading_zeros());
    let step = octave / 4;
    bytes.div_ceil(step) * step
}

impl Pool {
    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // A poisoned pool only means another thread panicked mid-update of
        // counters; the buffers themselves are still valid.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a buffer of at least `bytes` (caller has checked the limits).
    /// Returns the buffer and whether it had to be created.
    pub(crate) fn take(&self, device: &wgpu::Device, bytes: u64, max: u64) -> (PooledBuffer, bool) {
        let class = size_class(bytes).min(max.max(bytes.next_multiple_of(4)));
        let mut state = self.lock();
        let reused = state.free.get_mut(&class).and_then(Vec::pop);
        let created = reused.is_none();
        let buffer = match reused {
            Some(buffer) => {
                state.stats.cached -= class;
                buffer
            }
            None => device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("pixgrad pooled"),
                size: class,
                usage: BUFFER_USAGE,
                mapped_at_creation: false,
            }),
        };
        state.stats.live += class;
        state.stats.peak = state.stats.peak.max(state.stats.live);
        drop(state);
        let pooled = PooledBuffer { buffer, class, pool: self.clone() };
        (pooled, created)
    }

    pub(crate) fn stats(&self) -> MemoryStats {
        self.lock().stats
    }

    pub(crate) fn reset_peak(&self) {
        let mut state = self.lock();
        state.stats.peak = state.stats.live;
    }

    /// Destroys the cached free buffers.
    pub(crate) fn release_cached(&self) {
        let mut state = self.lock();
        state.free.clear();
        state.stats.cached = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_round_up_with_bounded_slack() {
        assert_eq!(size_class(1), 256);
        assert_eq!(size_class(257), 512);
        assert_eq!(size_class(4096), 4096);
        assert_eq!(size_class(4097), 5120);
        for bytes in [5000u64, 123_457, 3 * 512 * 512 * 4, 1 << 26] {
            let class = size_class(bytes);
            assert!(class >= bytes && (class as f64) <= bytes as f64 * 1.25, "{bytes} -> {class}");
        }
    }
}
