//! CPU f64 reference of the sampler (PyTorch grid_sample semantics, source
//! pixel coordinates with centres at integers), its adjoints, and the
//! matrix warps built on it.

use pixgrad::ops::warp::{Interpolation, Padding};

#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub mode: Interpolation,
    pub padding: Padding,
    pub align_corners: bool,
}

/// (padded coordinate, d padded / d coordinate), as PyTorch's
/// compute_source_index_set_grad.
fn clip(x: f64, size: usize) -> (f64, f64) {
    let high = size as f64 - 1.0;
    if x <= 0.0 {
        (0.0, 0.0)
    } else if x >= high {
        (high, 0.0)
    } else {
        (x, 1.0)
    }
}

fn reflect(x: f64, twice_low: f64, twice_high: f64) -> (f64, f64) {
    if twice_low == twice_high {
        return (0.0, 0.0);
    }
    let low = twice_low / 2.0;
    let span = (twice_high - twice_low) / 2.0;
    let (mut v, mut slope) = (x - low, 1.0);
    if v < 0.0 {
        v = -v;
        slope = -1.0;
    }
    let extra = v % span;
    let flips = (v / span).floor();
    if flips % 2.0 == 0.0 { (extra + low, slope) } else { (span - extra + low, -slope) }
}

fn pad(x: f64, size: usize, cfg: Config) -> (f64, f64) {
    match cfg.padding {
        Padding::Zeros => (x, 1.0),
        Padding::Border => clip(x, size),
        Padding::Reflection => {
            let (r, s) = if cfg.align_corners {
                reflect(x, 0.0, 2.0 * (size as f64 - 1.0))
            } else {
                reflect(x, -1.0, 2.0 * size as f64 - 1.0)
            };
            let (c, cs) = clip(r, size);
            (c, s * cs)
        }
    }
}

fn cubic(t: f64) -> [(f64, f64); 4] {
    let a = -0.75;
    let near = |t: f64| ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
    let near_d = |t: f64| (3.0 * (a + 2.0) * t - 2.0 * (a + 3.0)) * t;
    let far = |t: f64| ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a;
    let far_d = |t: f64| (3.0 * a * t - 10.0 * a) * t + 8.0 * a;
    [
        (far(t + 1.0), far_d(t + 1.0)),
        (near(t), near_d(t)),
        (near(1.0 - t), -near_d(1.0 - t)),
        (far(2.0 - t), -far_d(2.0 - t)),
    ]
}

/// Taps of a sample point: (plane index if inside, weight, d/dx, d/dy).
pub fn taps(x: f64, y: f64, h: usize, w: usize, cfg: Config) -> Vec<(Option<usize>, f64, f64, f64)> {
    let index = |ix: i64, iy: i64| {
        (ix >= 0 && iy >= 0 && ix < w as i64 && iy < h as i64).then(|| iy as usize * w + ix as usize)
    };
    if x.is_nan() || y.is_nan() {
        return vec![];
    }
    match cfg.mode {
        Interpolation::Nearest => {
            let (px, py) = (pad(x, w, cfg).0, pad(y, h, cfg).0);
            vec![(index(px.round_ties_even() as i64, py.round_ties_even() as i64), 1.0, 0.0, 0.0)]
        }
        Interpolation::Bilinear => {
            let ((px, sx), (py, sy)) = (pad(x, w, cfg), pad(y, h, cfg));
            let (x0, y0) = (px.floor(), py.floor());
            let (fx, fy) = (px - x0, py - y0);
            let (ix, iy) = (x0 as i64, y0 as i64);
            vec![
                (index(ix, iy), (1.0 - fx) * (1.0 - fy), -(1.0 - fy) * sx, -(1.0 - fx) * sy),
                (index(ix + 1, iy), fx * (1.0 - fy), (1.0 - fy) * sx, -fx * sy),
                (index(ix, iy + 1), (1.0 - fx) * fy, -fy * sx, (1.0 - fx) * sy),
                (index(ix + 1, iy + 1), fx * fy, fy * sx, fx * sy),
            ]
        }
        Interpolation::Bicubic => {
            let (x0, y0) = (x.floor(), y.floor());
            let (wx, wy) = (cubic(x - x0), cubic(y - y0));
            let pad_tap = |i: i64, size: usize| match cfg.padding {
                Padding::Zeros => i,
                _ => pad(i as f64, size, cfg).0 as i64,
            };
            let mut out = Vec::new();
            for (j, &(wyj, dyj)) in wy.iter().enumerate() {
                let iy = pad_tap(y0 as i64 - 1 + j as i64, h);
                for (i, &(wxi, dxi)) in wx.iter().enumerate() {
                    let ix = pad_tap(x0 as i64 - 1 + i as i64, w);
                    out.push((index(ix, iy), wxi * wyj, dxi * wyj, wxi * dyj));
                }
            }
            out
        }
    }
}

/// An image batch `[N, C, H, W]` and sample points `[N, P]` (x, y) in source pixels.
pub struct Problem<'a> {
    pub img: &'a [f64],
    pub shape: [usize; 4],
    pub points: &'a [(f64, f64)],
    pub pixels: usize,
    pub cfg: Config,
}

impl Problem<'_> {
    pub fn forward(&self) -> Vec<f64> {
        let [n, c, h, w] = self.shape;
        let mut out = vec![0.0; n * c * self.pixels];
        for b in 0..n {
            for p in 0..self.pixels {
                let (x, y) = self.points[b * self.pixels + p];
                for (q, wt, _, _) in taps(x, y, h, w, self.cfg) {
                    let Some(q) = q else { continue };
                    for ch in 0..c {
                        out[(b * c + ch) * self.pixels + p] += wt * self.img[(b * c + ch) * h * w + q];
                    }
                }
            }
        }
        out
    }

    /// (gradient of the image, gradient of the points as [N, P] (gx, gy)).
    pub fn vjp(&self, g: &[f64]) -> (Vec<f64>, Vec<(f64, f64)>) {
        let [n, c, h, w] = self.shape;
        let mut gimg = vec![0.0; self.img.len()];
        let mut gpts = vec![(0.0, 0.0); self.points.len()];
        for b in 0..n {
            for p in 0..self.pixels {
                let (x, y) = self.points[b * self.pixels + p];
                for (q, wt, dx, dy) in taps(x, y, h, w, self.cfg) {
                    let Some(q) = q else { continue };
                    for ch in 0..c {
                        let go = g[(b * c + ch) * self.pixels + p];
                        gimg[(b * c + ch) * h * w + q] += go * wt;
                        let v = self.img[(b * c + ch) * h * w + q];
                        gpts[b * self.pixels + p].0 += go * v * dx;
                        gpts[b * self.pixels + p].1 += go * v * dy;
                    }
                }
            }
        }
        (gimg, gpts)
    }
}

/// Source points of a matrix warp: `inverse(m) · (x, y, 1)` per destination
/// pixel, divided by w for homographies (NaN where w <= 0), with the
/// homography's sign normalised at the destination centre.
pub fn matrix_points(m: &[f64; 9], projective: bool, dsize: [usize; 2]) -> Vec<(f64, f64)> {
    let inv = invert3(m);
    let (cx, cy) = ((dsize[1] as f64 - 1.0) / 2.0, (dsize[0] as f64 - 1.0) / 2.0);
    let sign = if projective && inv[6] * cx + inv[7] * cy + inv[8] < 0.0 { -1.0 } else { 1.0 };
    let mut pts = Vec::new();
    for y in 0..dsize[0] {
        for x in 0..dsize[1] {
            let (xf, yf) = (x as f64, y as f64);
            let u = sign * (inv[0] * xf + inv[1] * yf + inv[2]);
            let v = sign * (inv[3] * xf + inv[4] * yf + inv[5]);
            if projective {
                let wz = sign * (inv[6] * xf + inv[7] * yf + inv[8]);
                pts.push(if wz > 0.0 { (u / wz, v / wz) } else { (f64::NAN, f64::NAN) });
            } else {
                pts.push((u, v));
            }
        }
    }
    pts
}

pub fn invert3(m: &[f64; 9]) -> [f64; 9] {
    let [a, b, c, d, e, f, g, h, i] = *m;
    let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    [
        (e * i - f * h) / det,
        (c * h - b * i) / det,
        (b * f - c * e) / det,
        (f * g - d * i) / det,
        (a * i - c * g) / det,
        (c * d - a * f) / det,
        (d * h - e * g) / det,
        (b * g - a * h) / det,
        (a * e - b * d) / det,
    ]
}
