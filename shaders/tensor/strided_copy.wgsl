// Strided copy: dst[dst_offset + i · dst_stride] = src[src_offset + i · src_stride]
// for i < count. Stacking along a new last axis writes each input with the
// stride of the stack; unbinding reads each slice with it.

struct CopyParams {
    count: u32,
    src_offset: u32,
    src_stride: u32,
    dst_offset: u32,
    dst_stride: u32,
}

@group(0) @binding(0) var<uniform> p: CopyParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn strided_copy(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.count) {
        return;
    }
    dst[p.dst_offset + i * p.dst_stride] = src[p.src_offset + i * p.src_stride];
}
