// Sliding windows of the line kernels (filter/correlate_lines.wgsl, loss/ssim_from_moments.wgsl): one
// thread per image line keeps the last 4, 8, 12 or 16 values of a line in one
// to four vec4 (as many as the kernel's taps need, a pipeline constant), so
// each pixel is loaded once. Needs lib/correlation_params.wgsl (KX, KY, ALONG_Y).

const LINE_WG: u32 = 64u;

struct Window {
    a: vec4<f32>,
    b: vec4<f32>,
    c: vec4<f32>,
    d: vec4<f32>,
}

fn zero_window() -> Window {
    return Window(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
}

// Taps along the sliding axis.
fn taps() -> i32 {
    return select(KX, KY, ALONG_Y == 1u);
}

// Window slots in use: 4, 8, 12 or 16 (the taps rounded up to vec4s).
fn slots() -> i32 {
    return (taps() + 3) / 4 * 4;
}

// Slides the window one place towards the start; `v` enters at the last slot.
fn slide(w: Window, v: f32) -> Window {
    switch slots() {
        case 4: { return Window(vec4(w.a.yzw, v), w.b, w.c, w.d); }
        case 8: { return Window(vec4(w.a.yzw, w.b.x), vec4(w.b.yzw, v), w.c, w.d); }
        case 12: { return Window(vec4(w.a.yzw, w.b.x), vec4(w.b.yzw, w.c.x), vec4(w.c.yzw, v), w.d); }
        default: {
            return Window(vec4(w.a.yzw, w.b.x), vec4(w.b.yzw, w.c.x), vec4(w.c.yzw, w.d.x), vec4(w.d.yzw, v));
        }
    }
}

// Unused vec4s stay zero, so whole-window arithmetic is exact; the
// pipeline constant drops them.
fn dot_window(u: Window, v: Window) -> f32 {
    var s = dot(u.a, v.a);
    if (slots() > 4) {
        s += dot(u.b, v.b);
    }
    if (slots() > 8) {
        s += dot(u.c, v.c);
    }
    if (slots() > 12) {
        s += dot(u.d, v.d);
    }
    return s;
}

fn add_scaled(acc: Window, s: f32, v: Window) -> Window {
    var r = acc;
    r.a += s * v.a;
    if (slots() > 4) {
        r.b += s * v.b;
    }
    if (slots() > 8) {
        r.c += s * v.c;
    }
    if (slots() > 12) {
        r.d += s * v.d;
    }
    return r;
}

fn at(w: Window, i: i32) -> f32 {
    switch i / 4 {
        case 0: { return w.a[i % 4]; }
        case 1: { return w.b[i % 4]; }
        case 2: { return w.c[i % 4]; }
        default: { return w.d[i % 4]; }
    }
}

