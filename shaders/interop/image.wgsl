// Images <-> f32 tensors. Samples are interleaved (HWC, as the `image` crate
// stores them) and packed into u32 words: four u8, two u16 or one f32 per
// word (DEPTH = bytes per sample). Tensors are planar [C, H, W], their f32
// bits read and written through u32.
// Integer samples map to [0, 1] as v / max (max = 255 or 65535); back, values
// are clamped to [0, 1] and rounded to nearest (NaN -> 0), so integer round
// trips are exact. f32 samples pass through unchanged.

override DEPTH: u32 = 1u;

struct ImageParams {
    pixels: u32,
    channels: u32,
    off_in: u32,
    off_out: u32,
    samples: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: ImageParams;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

override PER_WORD: u32 = 4u / DEPTH;
override BITS: u32 = DEPTH * 8u;
override MAX_VALUE: u32 = 0xffffffffu >> (32u - BITS);

fn sample_bits(index: u32) -> u32 {
    let word = src[p.off_in + index / PER_WORD];
    if (DEPTH == 4u) {
        return word;
    }
    return (word >> ((index % PER_WORD) * BITS)) & MAX_VALUE;
}

// One thread per tensor element.
@compute @workgroup_size(256)
fn unpack(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.pixels * p.channels) {
        return;
    }
    let channel = i / p.pixels;
    let pixel = i % p.pixels;
    let bits = sample_bits(pixel * p.channels + channel);
    var value = bitcast<f32>(bits);
    if (DEPTH != 4u) {
        value = f32(bits) / f32(MAX_VALUE);
    }
    dst[p.off_out + i] = bitcast<u32>(value);
}

fn quantize(v: f32) -> u32 {
    if (DEPTH == 4u) {
        return bitcast<u32>(v);
    }
    let safe = select(v, 0.0, is_nan(v));
    return u32(round(clamp(safe, 0.0, 1.0) * f32(MAX_VALUE)));
}

// One thread per packed output word.
@compute @workgroup_size(256)
fn pack(ids: Invocation) {
    let word = thread_index(ids);
    if (word * PER_WORD >= p.samples) {
        return;
    }
    var packed = 0u;
    for (var k = 0u; k < PER_WORD; k++) {
        let sample = word * PER_WORD + k;
        if (sample < p.samples) {
            let pixel = sample / p.channels;
            let channel = sample % p.channels;
            let value = bitcast<f32>(src[p.off_in + channel * p.pixels + pixel]);
            packed |= quantize(value) << (k * BITS);
        }
    }
    dst[p.off_out + word] = packed;
}
