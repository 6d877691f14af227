// 8-bit images <-> f32 tensors. Bytes are packed four to a u32 with pixels
// interleaved (HWC, as the `image` crate stores them); tensors are planar
// [C, H, W] in [0, 1], their f32 bits read and written through u32.
// u8 -> f32 is v / 255; f32 -> u8 rounds clamp(v, 0, 1) * 255 to nearest
// (NaN -> 0), so an 8-bit round trip is exact.

struct ImageParams {
    pixels: u32,
    channels: u32,
    off_in: u32,
    off_out: u32,
    bytes: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: ImageParams;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

// One thread per tensor element.
@compute @workgroup_size(256)
fn u8_to_f32(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = thread_index(wid, nwg, lid);
    if (i >= p.pixels * p.channels) {
        return;
    }
    let channel = i / p.pixels;
    let pixel = i % p.pixels;
    let byte = pixel * p.channels + channel;
    let value = (src[p.off_in + byte / 4u] >> ((byte % 4u) * 8u)) & 0xffu;
    dst[p.off_out + i] = bitcast<u32>(f32(value) / 255.0);
}

fn quantize(v: f32) -> u32 {
    let safe = select(v, 0.0, is_nan(v));
    return u32(round(clamp(safe, 0.0, 1.0) * 255.0));
}

// One thread per packed output word (four bytes).
@compute @workgroup_size(256)
fn f32_to_u8(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let word = thread_index(wid, nwg, lid);
    if (word * 4u >= p.bytes) {
        return;
    }
    var packed = 0u;
    for (var k = 0u; k < 4u; k++) {
        let byte = word * 4u + k;
        if (byte < p.bytes) {
            let pixel = byte / p.channels;
            let channel = byte % p.channels;
            let value = bitcast<f32>(src[p.off_in + channel * p.pixels + pixel]);
            packed |= quantize(value) << (k * 8u);
        }
    }
    dst[p.off_out + word] = packed;
}
