// Block copy: rows of `len` contiguous elements, `rows` of them, from a
// stride of `src_row` to a stride of `dst_row` (narrow along an axis, cat,
// and their adjoints).
struct BlockParams {
    count: u32,
    len: u32,
    src_offset: u32,
    src_row: u32,
    dst_offset: u32,
    dst_row: u32,
}

@group(0) @binding(0) var<uniform> b: BlockParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn block_copy(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= b.count) {
        return;
    }
    let row = i / b.len;
    let k = i - row * b.len;
    dst[b.dst_offset + row * b.dst_row + k] = src[b.src_offset + row * b.src_row + k];
}
