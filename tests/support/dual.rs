//! Forward-mode dual numbers in f64: a reference written once with `D`
//! gives both its value and its exact Jacobian (checked against finite
//! differences in the tests that use it). Branches follow the value, as
//! PyTorch's autograd does.

// The product and quotient rules mix operators on purpose.
#![allow(clippy::suspicious_arithmetic_impl)]

use std::ops::{Add, Div, Mul, Neg, Sub};

/// A value and its derivatives along up to four input directions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct D {
    pub v: f64,
    pub d: [f64; 4],
}

impl D {
    pub fn c(v: f64) -> D {
        D { v, d: [0.0; 4] }
    }

    /// Input number `i`.
    pub fn var(v: f64, i: usize) -> D {
        let mut d = [0.0; 4];
        d[i] = 1.0;
        D { v, d }
    }

    fn map(self, v: f64, slope: f64) -> D {
        D { v, d: self.d.map(|x| x * slope) }
    }

    pub fn powf(self, p: f64) -> D {
        self.map(self.v.powf(p), p * self.v.powf(p - 1.0))
    }

    pub fn exp(self) -> D {
        self.map(self.v.exp(), self.v.exp())
    }

    pub fn ln(self) -> D {
        self.map(self.v.ln(), 1.0 / self.v)
    }

    /// `self mod m` (Python's sign convention); slope 1.
    pub fn modulo(self, m: f64) -> D {
        D { v: self.v - (self.v / m).floor() * m, d: self.d }
    }

    /// torch.fmod (sign of the dividend); slope 1.
    pub fn fmod(self, m: f64) -> D {
        D { v: self.v - (self.v / m).trunc() * m, d: self.d }
    }

    /// torch.clamp with scalar bounds: the gradient passes where lo < x < hi
    /// (none at a bound).
    pub fn clamp(self, lo: f64, hi: f64) -> D {
        if self.v <= lo {
            D::c(lo)
        } else if self.v >= hi {
            D::c(hi)
        } else {
            self
        }
    }

    /// torch.minimum: a tie splits the gradient.
    pub fn minimum(self, o: D) -> D {
        if self.v < o.v {
            self
        } else if self.v > o.v {
            o
        } else {
            (self + o) * 0.5
        }
    }

    /// `if cond { a } else { b }` (torch.where).
    pub fn pick(cond: bool, a: D, b: D) -> D {
        if cond { a } else { b }
    }
}

impl Add for D {
    type Output = D;
    fn add(self, o: D) -> D {
        D { v: self.v + o.v, d: std::array::from_fn(|i| self.d[i] + o.d[i]) }
    }
}

impl Sub for D {
    type Output = D;
    fn sub(self, o: D) -> D {
        D { v: self.v - o.v, d: std::array::from_fn(|i| self.d[i] - o.d[i]) }
    }
}

impl Mul for D {
    type Output = D;
    fn mul(self, o: D) -> D {
        D { v: self.v * o.v, d: std::array::from_fn(|i| self.d[i] * o.v + self.v * o.d[i]) }
    }
}

impl Div for D {
    type Output = D;
    fn div(self, o: D) -> D {
        D { v: self.v / o.v, d: std::array::from_fn(|i| (self.d[i] * o.v - self.v * o.d[i]) / (o.v * o.v)) }
    }
}

impl Neg for D {
    type Output = D;
    fn neg(self) -> D {
        D { v: -self.v, d: self.d.map(|x| -x) }
    }
}

impl Add<f64> for D {
    type Output = D;
    fn add(self, o: f64) -> D {
        self + D::c(o)
    }
}

impl Sub<f64> for D {
    type Output = D;
    fn sub(self, o: f64) -> D {
        self - D::c(o)
    }
}

impl Mul<f64> for D {
    type Output = D;
    fn mul(self, o: f64) -> D {
        self.map(self.v * o, o)
    }
}

impl Div<f64> for D {
    type Output = D;
    fn div(self, o: f64) -> D {
        self.map(self.v / o, 1.0 / o)
    }
}

impl Add<D> for f64 {
    type Output = D;
    fn add(self, o: D) -> D {
        D::c(self) + o
    }
}

impl Sub<D> for f64 {
    type Output = D;
    fn sub(self, o: D) -> D {
        D::c(self) - o
    }
}

impl Mul<D> for f64 {
    type Output = D;
    fn mul(self, o: D) -> D {
        o * self
    }
}

impl Div<D> for f64 {
    type Output = D;
    fn div(self, o: D) -> D {
        D::c(self) / o
    }
}

/// Value and Jacobian (`jac[out][in]`) of `f` at `x` (up to 4 inputs).
pub fn jacobian<const I: usize, const O: usize>(
    f: impl Fn([D; I]) -> [D; O],
    x: [f64; I],
) -> ([f64; O], [[f64; I]; O]) {
    let y = f(std::array::from_fn(|i| D::var(x[i], i)));
    (y.map(|v| v.v), y.map(|v| std::array::from_fn(|i| v.d[i])))
}
