// Shared prelude, prepended to every kernel (see src/gpu/kernel.rs).
// 1-D kernels run 256 threads per workgroup; past 65535 workgroups the grid
// wraps into y, and the linear thread index is rebuilt here.

const WG: u32 = 256u;

// The builtins a kernel entry takes, as its one parameter `ids`.
struct Invocation {
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
}

fn thread_index(ids: Invocation) -> u32 {
    return (ids.wid.y * ids.nwg.x + ids.wid.x) * WG + ids.lid;
}

// Per-item kernels run a grid of (pixel workgroups, items): the pixel index
// wraps into z past 65535 workgroups, the item is y. No division, which CPU
// adapters do one lane at a time.
fn pixel_index(ids: Invocation) -> u32 {
    return (ids.wid.z * ids.nwg.x + ids.wid.x) * WG + ids.lid;
}

// Element-wise kernels whose output holds a multiple of 4 elements on a
// 16-byte boundary take four consecutive elements per thread and store them
// as one vec4 (`forward4` / `adjoint4`): llvmpipe stores one lane at a time,
// so that is a quarter of the stores. The thread's first element, or
// NO_ELEMENT past the end.
const NO_ELEMENT: u32 = 0xffffffffu;

fn first_of_four(ids: Invocation, len: u32) -> u32 {
    let i = thread_index(ids);
    return select(NO_ELEMENT, 4u * i, i < len / 4u);
}

fn pos_inf() -> f32 {
    return bitcast<f32>(0x7f800000u);
}

fn quiet_nan() -> f32 {
    return bitcast<f32>(0x7fc00000u);
}

// Bit test: `x != x` may be folded to false by drivers that assume no NaN.
fn is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn is_finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// Up to 8 dimensions packed in two vec4 (uniform arrays need a 16-byte stride).
struct Dims {
    lo: vec4<u32>,
    hi: vec4<u32>,
}

fn dim(d: Dims, i: u32) -> u32 {
    if (i < 4u) {
        return d.lo[i];
    }
    return d.hi[i - 4u];
}

// Element index of a (possibly broadcast) operand for the row-major output
// index `i`: mode 0 = same layout as the output, 1 = a single element,
// 2 = strides (0 along broadcast dimensions). The outermost dimension needs
// no modulo; integer division is slow on CPU adapters, so it is skipped there.
fn operand_index(i: u32, mode: u32, rank: u32, shape: Dims, strides: Dims) -> u32 {
    if (mode == 0u) {
        return i;
    }
    if (mode == 1u) {
        return 0u;
    }
    var rest = i;
    var index = 0u;
    for (var d = rank - 1u; d > 0u; d--) {
        let n = dim(shape, d);
        index += (rest % n) * dim(strides, d);
        rest /= n;
    }
    return index + rest * dim(strides, 0u);
}

// x^y with IEEE/PyTorch meaning for negative bases and zero: WGSL's pow is
// undefined for x < 0 (it computes exp2(y * log2(x))).
fn pow_ieee(x: f32, y: f32) -> f32 {
    if (y == 0.0) {
        return 1.0;
    }
    if (is_nan(y)) {
        return quiet_nan();
    }
    if (x == 0.0) {
        return select(pos_inf(), 0.0, y > 0.0);
    }
    let magnitude = pow(abs(x), y);
    if (x > 0.0 || is_nan(x)) {
        return magnitude;
    }
    if (y != floor(y)) {
        return quiet_nan();
    }
    let odd = abs(y) < 16777216.0 && (i32(y) & 1) != 0;
    return select(magnitude, -magnitude, odd);
}

// Parameters of the broadcasting element-wise kernels (binary and ternary,
// forward and adjoint): output index space `shape` (rank <= 8), and per
// operand strides and an offset (the addressing modes are pipeline constants).
struct BroadcastParams {
    len: u32,
    rank: u32,
    off_a: u32,
    off_b: u32,
    off_c: u32,
    // Offset of the output (forward) or of the incoming gradient (adjoint).
    off_out: u32,
    off_ga: u32,
    off_gb: u32,
    off_gc: u32,
    need_a: u32,
    need_b: u32,
    need_c: u32,
    shape: Dims,
    stride_a: Dims,
    stride_b: Dims,
    stride_c: Dims,
}

// Parameters of the unary kernels, forward and adjoint.
struct UnaryParams {
    len: u32,
    off_x: u32,
    off_y: u32,
    off_g: u32,
    off_gx: u32,
    _pad: u32,
    s0: f32,
    s1: f32,
}

// (sin, cos) of an angle in degrees, exact at multiples of 90° (a quarter
// turn of an image then samples exactly on pixel centres): the angle is
// reduced exactly to [-45°, 45°] plus whole quarter turns before radians.
fn sin_cos_degrees(degrees: f32) -> vec2<f32> {
    let turn = degrees - 360.0 * round(degrees / 360.0);
    let quarter = round(turn / 90.0);
    let rad = (turn - 90.0 * quarter) * 0.017453292519943295;
    let s = sin(rad);
    let c = cos(rad);
    switch i32(quarter) {
        case 1: { return vec2(c, -s); }
        case 2, -2: { return vec2(-s, -c); }
        case -1: { return vec2(-c, s); }
        default: { return vec2(s, c); }
    }
}
