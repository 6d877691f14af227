// import lib/color_math.wgsl

// Colour conversions, forward and adjoint, one thread per pixel: the pixel's
// C_IN channels in, C_OUT channels out (formulas in lib/color_math.wgsl). OP is
// a pipeline constant, so each pipeline holds one conversion.

override OP: u32 = 0u;
// Channels in and out (1, 3 or 4).
override C_IN: u32 = 3u;
override C_OUT: u32 = 3u;
// The output gradient is uniform: one stored value for every element.
override G_UNIFORM: u32 = 0u;

struct ColorParams {
    pixels: u32,
    items: u32,
    // rgb_to_rgba: the alpha value; lab_to_rgb: 1 to clip to [0, 1].
    alpha: f32,
    clip: u32,
    // rgba_to_rgb: the colour behind (xyz).
    background: vec4<f32>,
}

@group(0) @binding(0) var<uniform> p: ColorParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const RGB_TO_YUV: mat3x3<f32> = mat3x3<f32>(
    vec3(0.299, -0.147, 0.615),
    vec3(0.587, -0.289, -0.515),
    vec3(0.114, 0.436, -0.100),
);
// Kornia's inverse, rounded as it hard-codes it (not the exact inverse).
const YUV_TO_RGB: mat3x3<f32> = mat3x3<f32>(
    vec3(1.0, 1.0, 1.0),
    vec3(-3.945707070707071e-05, -0.39461016414141414, 2.0319996843434343),
    vec3(1.139827967171717, -0.5805003156565657, -0.00048137626262626264),
);
// YCbCr to RGB on (Y, Cb - 0.5, Cr - 0.5), Kornia's constants.
const YCBCR_TO_RGB: mat3x3<f32> = mat3x3<f32>(
    vec3(1.0, 1.0, 1.0),
    vec3(0.0, -0.3443401356, 1.7730496454),
    vec3(1.4025245442, -0.7144034731, 0.0),
);

// Channel counts are pipeline constants: these fold to straight loads.
fn load_x(base: u32, channels: u32) -> vec4<f32> {
    var v = vec4(x[base], 0.0, 0.0, 0.0);
    if (channels > 1u) {
        v.y = x[base + p.pixels];
        v.z = x[base + 2u * p.pixels];
    }
    if (channels > 3u) {
        v.w = x[base + 3u * p.pixels];
    }
    return v;
}

fn load_g(base: u32, channels: u32) -> vec4<f32> {
    if (G_UNIFORM == 1u) {
        let u = g[0];
        return vec4(u, select(0.0, u, channels > 1u), select(0.0, u, channels > 1u), select(0.0, u, channels > 3u));
    }
    var v = vec4(g[base], 0.0, 0.0, 0.0);
    if (channels > 1u) {
        v.y = g[base + p.pixels];
        v.z = g[base + 2u * p.pixels];
    }
    if (channels > 3u) {
        v.w = g[base + 3u * p.pixels];
    }
    return v;
}

fn rgb_to_ycbcr(c: vec3<f32>) -> vec3<f32> {
    let y = dot(GRAY, c);
    return vec3(y, (c.z - y) * 0.564 + 0.5, (c.x - y) * 0.713 + 0.5);
}

// Before Kornia's clip to [0, 1].
fn ycbcr_to_rgb_unclipped(c: vec3<f32>) -> vec3<f32> {
    return YCBCR_TO_RGB * (c - vec3(0.0, 0.5, 0.5));
}

fn lab_to_rgb_clipped(c: vec3<f32>) -> vec3<f32> {
    let rgb = lab_to_rgb(c);
    return select(rgb, clamp(rgb, vec3(0.0), vec3(1.0)), p.clip == 1u);
}

// The gradient of a clip to [0, 1] at its input v: it passes strictly
// inside (PyTorch's clamp with scalar bounds).
fn clip_adjoint(v: vec3<f32>, g: vec3<f32>) -> vec3<f32> {
    return select(vec3(0.0), g, v > vec3(0.0) & v < vec3(1.0));
}

fn convert(v: vec4<f32>) -> vec4<f32> {
    let c = v.xyz;
    switch OP {
        case 0u: { return vec4(dot(GRAY, c), 0.0, 0.0, 0.0); }
        case 1u: { return vec4(v.x, v.x, v.x, 0.0); }
        case 2u: { return vec4(c.zyx, 0.0); }
        case 3u: { return vec4(c, p.alpha); }
        case 4u: { return vec4(mix(p.background.xyz, c, v.w), 0.0); }
        case 5u: { return vec4(rgb_to_hsv(c), 0.0); }
        case 6u: { return vec4(hsv_to_rgb(c), 0.0); }
        case 7u: { return vec4(rgb_to_hls(c), 0.0); }
        case 8u: { return vec4(hls_to_rgb(c), 0.0); }
        case 9u: { return vec4(srgb_to_linear(c), 0.0); }
        case 10u: { return vec4(linear_to_srgb(c), 0.0); }
        case 11u: { return vec4(RGB_TO_XYZ * c, 0.0); }
        case 12u: { return vec4(XYZ_TO_RGB * c, 0.0); }
        case 13u: { return vec4(rgb_to_lab(c), 0.0); }
        case 14u: { return vec4(lab_to_rgb_clipped(c), 0.0); }
        case 15u: { return vec4(rgb_to_luv(c), 0.0); }
        case 16u: { return vec4(luv_to_rgb(c), 0.0); }
        case 17u: { return vec4(rgb_to_ycbcr(c), 0.0); }
        case 18u: { return vec4(clamp(ycbcr_to_rgb_unclipped(c), vec3(0.0), vec3(1.0)), 0.0); }
        case 19u: { return vec4(RGB_TO_YUV * c, 0.0); }
        default: { return vec4(YUV_TO_RGB * c, 0.0); }
    }
}

// Jᵀ gy at the input v.
fn convert_adjoint(v: vec4<f32>, gy: vec4<f32>) -> vec4<f32> {
    let c = v.xyz;
    let gc = gy.xyz;
    switch OP {
        case 0u: { return vec4(gy.x * GRAY, 0.0); }
        case 1u: { return vec4(gy.x + gy.y + gy.z, 0.0, 0.0, 0.0); }
        case 2u: { return vec4(gc.zyx, 0.0); }
        case 3u: { return vec4(gc, 0.0); }
        case 4u: { return vec4(gc * v.w, dot(gc, c - p.background.xyz)); }
        case 5u: { return vec4(rgb_to_hsv_adjoint(c, gc, true), 0.0); }
        case 6u: { return vec4(hsv_to_rgb_adjoint(c, gc), 0.0); }
        case 7u: { return vec4(rgb_to_hls_adjoint(c, gc), 0.0); }
        case 8u: { return vec4(hls_to_rgb_adjoint(c, gc), 0.0); }
        case 9u: { return vec4(srgb_to_linear_adjoint(c, gc), 0.0); }
        case 10u: { return vec4(linear_to_srgb_adjoint(c, gc), 0.0); }
        case 11u: { return vec4(transpose(RGB_TO_XYZ) * gc, 0.0); }
        case 12u: { return vec4(transpose(XYZ_TO_RGB) * gc, 0.0); }
        case 13u: { return vec4(rgb_to_lab_adjoint(c, gc), 0.0); }
        case 14u: {
            let clipped = select(gc, clip_adjoint(lab_to_rgb(c), gc), p.clip == 1u);
            return vec4(lab_to_rgb_adjoint(c, clipped), 0.0);
        }
        case 15u: { return vec4(rgb_to_luv_adjoint(c, gc), 0.0); }
        case 16u: { return vec4(luv_to_rgb_adjoint(c, gc), 0.0); }
        case 17u: {
            let gy_total = gc.x - 0.564 * gc.y - 0.713 * gc.z;
            return vec4(gy_total * GRAY + vec3(0.713 * gc.z, 0.0, 0.564 * gc.y), 0.0);
        }
        case 18u: {
            return vec4(transpose(YCBCR_TO_RGB) * clip_adjoint(ycbcr_to_rgb_unclipped(c), gc), 0.0);
        }
        case 19u: { return vec4(transpose(RGB_TO_YUV) * gc, 0.0); }
        default: { return vec4(transpose(YUV_TO_RGB) * gc, 0.0); }
    }
}

fn store(base: u32, channels: u32, v: vec4<f32>) {
    out[base] = v.x;
    if (channels > 1u) {
        out[base + p.pixels] = v.y;
        out[base + 2u * p.pixels] = v.z;
    }
    if (channels > 3u) {
        out[base + 3u * p.pixels] = v.w;
    }
}

// out = convert(x); binding 2 is unused here.
@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let pixel = pixel_index(ids);
    if (pixel >= p.pixels) {
        return;
    }
    let item = ids.wid.y;
    let v = load_x(item * C_IN * p.pixels + pixel, C_IN);
    store(item * C_OUT * p.pixels + pixel, C_OUT, convert(v));
}

// out = Jᵀ g at x, shaped like x.
@compute @workgroup_size(256)
fn adjoint(ids: Invocation) {
    let pixel = pixel_index(ids);
    if (pixel >= p.pixels) {
        return;
    }
    let item = ids.wid.y;
    let v = load_x(item * C_IN * p.pixels + pixel, C_IN);
    let gy = load_g(item * C_OUT * p.pixels + pixel, C_OUT);
    store(item * C_IN * p.pixels + pixel, C_IN, convert_adjoint(v, gy));
}
