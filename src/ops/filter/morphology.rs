//! Grey-scale morphology as Kornia's `kornia.morphology` (and the median
//! filter, the other selection filter): dilation, erosion, opening,
//! closing, morphological gradient, top hat, black hat. Gradients go to the
//! pixel each output selected (ties: the first in raster order), and to the
//! structuring element's heights when they are a tensor that requires one.

use crate::error::{Error, Result};
use crate::ops::image_shape;
use crate::tensor::Tensor;

use super::BorderType;
use super::gaussian::check_odd;
use super::window::{MAX_MEDIAN_TAPS, Selection, Window, select};

/// A structuring element: the cells of a `(ky, kx)` window that belong to
/// it (Kornia's `kernel`: non-zero = member) and its origin, the cell that
/// sits on the output pixel (Kornia's default: the centre, `(ky / 2, kx / 2)`).
///
/// ```
/// use pixgrad::ops::filter::Structure;
/// let cross = Structure::cross(3)?;
/// assert_eq!(cross.mask(), &[false, true, false, true, true, true, false, true, false]);
/// let custom = Structure::from_mask([1, 3], &[1.0, 1.0, 0.0])?.with_origin([0, 0])?;
/// assert_eq!(custom.origin(), [0, 0]);
/// # Ok::<(), pixgrad::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Structure {
    size: [usize; 2],
    mask: Vec<bool>,
    origin: [usize; 2],
}

/// Largest side of a structuring element.
pub const MAX_STRUCTURE_SIZE: usize = 63;

impl Structure {
    /// A full `ky × kx` rectangle (sides 1 to [`MAX_STRUCTURE_SIZE`]).
    pub fn rect(ky: usize, kx: usize) -> Result<Structure> {
        check_size([ky, kx])?;
        Ok(Structure { size: [ky, kx], mask: vec![true; ky * kx], origin: [ky / 2, kx / 2] })
    }

    /// A full `k × k` square.
    pub fn square(k: usize) -> Result<Structure> {
        Structure::rect(k, k)
    }

    /// A `k × k` cross: the centre row and column.
    pub fn cross(k: usize) -> Result<Structure> {
        check_size([k, k])?;
        let mask = (0..k * k).map(|i| i / k == k / 2 || i % k == k / 2).collect();
        Ok(Structure { size: [k, k], mask, origin: [k / 2, k / 2] })
    }

    /// From Kornia's `kernel` `[ky, kx]` values, row-major: non-zero cells
    /// belong to the element. Errors if the size or the values are wrong,
    /// or no cell belongs.
    pub fn from_mask(size: [usize; 2], values: &[f32]) -> Result<Structure> {
        let [ky, kx] = size;
        check_size(size)?;
        let invalid = |reason: String| Error::InvalidArgument { op: "Structure", name: "kernel", reason };
        if values.len() != ky * kx || values.iter().any(|v| !v.is_finite()) {
            return Err(invalid(format!("needs {} finite values for {ky}x{kx}, got {}", ky * kx, values.len())));
        }
        let mask: Vec<bool> = values.iter().map(|&v| v != 0.0).collect();
        if !mask.contains(&true) {
            return Err(invalid("no cell belongs to the element".into()));
        }
        Ok(Structure { size, mask, origin: [ky / 2, kx / 2] })
    }

    /// The same element with another origin `(oy, ox)` inside the window.
    /// With [`MorphBorder::Geodesic`] the cell on the output pixel must
    /// belong to the element: the origin for erosion, its mirror
    /// `(ky - 1 - oy, kx - 1 - ox)` for dilation, which flips the element in
    /// its window as Kornia does (the ops return `Error::InvalidArgument`
    /// otherwise; the two are the same cell for odd sides).
    pub fn with_origin(mut self, origin: [usize; 2]) -> Result<Structure> {
        if origin[0] >= self.size[0] || origin[1] >= self.size[1] {
            return Err(Error::InvalidArgument {
                op: "Structure",
                name: "origin",
                reason: format!("{origin:?} lies outside the {:?} window", self.size),
            });
        }
        self.origin = origin;
        Ok(self)
    }

    /// `(ky, kx)`.
    pub fn size(&self) -> [usize; 2] {
        self.size
    }

    /// Membership of each cell, row-major.
    pub fn mask(&self) -> &[bool] {
        &self.mask
    }

    /// The cell on the output pixel.
    pub fn origin(&self) -> [usize; 2] {
        self.origin
    }

    fn check(&self, op: &'static str) -> Result<()> {
        let [ky, kx] = self.size;
        if ky == 0 || kx == 0 || ky > MAX_STRUCTURE_SIZE || kx > MAX_STRUCTURE_SIZE || !self.mask.contains(&true) {
            return Err(Error::InvalidArgument {
                op,
                name: "structure",
                reason: format!("a {ky}x{kx} element must have sides 1 to {MAX_STRUCTURE_SIZE} and a member cell"),
            });
        }
        Ok(())
    }

    /// Heights per cell (`heights`, or 0 for a flat element), −inf outside
    /// the element, differentiable in `heights`.
    fn effective_heights(&self, op: &'static str, img: &Tensor, heights: Option<&Tensor>) -> Result<Tensor> {
        let ctx = img.context();
        let [ky, kx] = self.size;
        let outside: Vec<f32> = self.mask.iter().map(|&m| if m { 0.0 } else { f32::NEG_INFINITY }).collect();
        let Some(heights) = heights else {
            return Tensor::from_slice(ctx, &outside, &[ky, kx]);
        };
        img.same_context(op, heights)?;
        if heights.shape() != [ky, kx] {
            return Err(Error::ShapeMismatch {
                op,
                lhs: vec![ky, kx],
                rhs: heights.shape().to_vec(),
                reason: "do not fit: the structuring element's heights must have its size",
            });
        }
        let member: Vec<f32> = self.mask.iter().map(|&m| f32::from(u8::from(m))).collect();
        let member = Tensor::from_slice(ctx, &member, &[ky, kx])?;
        Tensor::select(&member, heights, &Tensor::from_slice(ctx, &outside, &[ky, kx])?)
    }
}

/// Each side of an element is 1 to [`MAX_STRUCTURE_SIZE`].
fn check_size([ky, kx]: [usize; 2]) -> Result<()> {
    if ky == 0 || kx == 0 || ky > MAX_STRUCTURE_SIZE || kx > MAX_STRUCTURE_SIZE {
        return Err(Error::InvalidArgument {
            op: "Structure",
            name: "size",
            reason: format!("each side must be 1 to {MAX_STRUCTURE_SIZE}, got {ky}x{kx}"),
        });
    }
    Ok(())
}

/// What morphology reads outside the image: Kornia's `border_type`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum MorphBorder {
    /// Outside pixels never win: −inf for dilation, +inf for erosion
    /// (Kornia's default).
    #[default]
    Geodesic,
    /// A border mode of the linear filters (constant value, reflect,
    /// replicate, circular).
    Border(BorderType),
}

impl MorphBorder {
    fn border(self, selection: Selection) -> BorderType {
        match self {
            MorphBorder::Geodesic if selection == Selection::Max => BorderType::Constant(f32::NEG_INFINITY),
            MorphBorder::Geodesic => BorderType::Constant(f32::INFINITY),
            MorphBorder::Border(b) => b,
        }
    }
}

fn extremum(
    op: &'static str,
    img: &Tensor,
    structure: &Structure,
    heights: Option<&Tensor>,
    border: MorphBorder,
    selection: Selection,
) -> Result<Tensor> {
    let [n, c, h, w] = image_shape(op, img)?;
    structure.check(op)?;
    // With a geodesic border a pixel whose element cells all fall outside
    // the image would get ±inf; the cell on the output pixel never does, if
    // it is one: the origin for erosion, its mirror for dilation (which
    // flips the element in its window, as Kornia).
    let [oy, ox] = structure.origin;
    let [ky, kx] = structure.size;
    let on_pixel = if selection == Selection::Max { (ky - 1 - oy, kx - 1 - ox) } else { (oy, ox) };
    if border == MorphBorder::Geodesic && !structure.mask[on_pixel.0 * kx + on_pixel.1] {
        return Err(Error::InvalidArgument {
            op,
            name: "structure",
            reason: format!(
                "with a geodesic border the cell {on_pixel:?} on the output pixel must belong to the element \
                 (else pixels near the edge have no neighbour and give ±inf): pick another origin with \
                 with_origin or use MorphBorder::Border"
            ),
        });
    }
    let window = Window {
        planes: n * c,
        height: h,
        width: w,
        size: structure.size,
        origin: structure.origin,
        border: border.border(selection),
    };
    let heights = structure.effective_heights(op, img, heights)?;
    select(op, img, window, selection, &heights)
}

impl Tensor {
    /// Grey-scale dilation (Kornia's `dilation`): per pixel the maximum of
    /// `x + h` over the structuring element reflected about its origin
    /// (`h` = `heights` `[ky, kx]` for a non-flat element, else 0).
    /// Gradients go to the selected pixel and height.
    ///
    /// ```
    /// use pixgrad::ops::filter::{MorphBorder, Structure};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.0, 1.0, 0.0, 0.0], &[1, 1, 1, 4])?;
    /// let out = img.dilation(&Structure::rect(1, 3)?, None, MorphBorder::Geodesic)?;
    /// assert_eq!(out.to_vec()?, vec![1.0, 1.0, 1.0, 0.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn dilation(&self, structure: &Structure, heights: Option<&Tensor>, border: MorphBorder) -> Result<Tensor> {
        extremum("dilation", self, structure, heights, border, Selection::Max)
    }

    /// Grey-scale erosion (Kornia's `erosion`): per pixel the minimum of
    /// `x - h` over the structuring element (not reflected).
    ///
    /// ```
    /// use pixgrad::ops::filter::{MorphBorder, Structure};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0, 1.0, 1.0], &[1, 1, 1, 4])?;
    /// let out = img.erosion(&Structure::rect(1, 3)?, None, MorphBorder::Geodesic)?;
    /// assert_eq!(out.to_vec()?, vec![0.0, 0.0, 0.0, 1.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn erosion(&self, structure: &Structure, heights: Option<&Tensor>, border: MorphBorder) -> Result<Tensor> {
        extremum("erosion", self, structure, heights, border, Selection::Min)
    }

    /// Opening: erosion, then dilation (removes bright details smaller than
    /// the element).
    ///
    /// ```
    /// use pixgrad::ops::filter::{MorphBorder, Structure};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.0, 1.0, 0.0, 0.0], &[1, 1, 1, 4])?;
    /// let out = img.opening(&Structure::rect(1, 3)?, None, MorphBorder::Geodesic)?;
    /// assert_eq!(out.to_vec()?, vec![0.0; 4]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn opening(&self, structure: &Structure, heights: Option<&Tensor>, border: MorphBorder) -> Result<Tensor> {
        self.erosion(structure, heights, border)?.dilation(structure, heights, border)
    }

    /// Closing: dilation, then erosion (fills dark details smaller than the
    /// element).
    ///
    /// ```
    /// use pixgrad::ops::filter::{MorphBorder, Structure};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0, 1.0, 1.0], &[1, 1, 1, 4])?;
    /// let out = img.closing(&Structure::rect(1, 3)?, None, MorphBorder::Geodesic)?;
    /// assert_eq!(out.to_vec()?, vec![1.0; 4]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn closing(&self, structure: &Structure, heights: Option<&Tensor>, border: MorphBorder) -> Result<Tensor> {
        self.dilation(structure, heights, border)?.erosion(structure, heights, border)
    }

    /// Morphological gradient: dilation − erosion (Kornia's `gradient`).
    ///
    /// ```
    /// use pixgrad::ops::filter::{MorphBorder, Structure};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.0, 0.0, 1.0, 1.0], &[1, 1, 1, 4])?;
    /// let out = img.morphology_gradient(&Structure::rect(1, 3)?, None, MorphBorder::Geodesic)?;
    /// assert_eq!(out.to_vec()?, vec![0.0, 1.0, 1.0, 0.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn morphology_gradient(
        &self,
        structure: &Structure,
        heights: Option<&Tensor>,
        border: MorphBorder,
    ) -> Result<Tensor> {
        self.dilation(structure, heights, border)?.sub(&self.erosion(structure, heights, border)?)
    }

    /// Top hat: the image minus its opening (bright details).
    ///
    /// ```
    /// use pixgrad::ops::filter::{MorphBorder, Structure};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.0, 1.0, 0.0, 0.0], &[1, 1, 1, 4])?;
    /// let out = img.top_hat(&Structure::rect(1, 3)?, None, MorphBorder::Geodesic)?;
    /// assert_eq!(out.to_vec()?, vec![0.0, 1.0, 0.0, 0.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn top_hat(&self, structure: &Structure, heights: Option<&Tensor>, border: MorphBorder) -> Result<Tensor> {
        self.sub(&self.opening(structure, heights, border)?)
    }

    /// Black hat: the closing minus the image (dark details; Kornia's
    /// `bottom_hat`).
    ///
    /// ```
    /// use pixgrad::ops::filter::{MorphBorder, Structure};
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[1.0, 0.0, 1.0, 1.0], &[1, 1, 1, 4])?;
    /// let out = img.black_hat(&Structure::rect(1, 3)?, None, MorphBorder::Geodesic)?;
    /// assert_eq!(out.to_vec()?, vec![0.0, 1.0, 0.0, 0.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn black_hat(&self, structure: &Structure, heights: Option<&Tensor>, border: MorphBorder) -> Result<Tensor> {
        self.closing(structure, heights, border)?.sub(self)
    }

    /// Median over a `(ky, kx)` window (odd sides, at most 81 cells), as
    /// Kornia's `median_blur` (whose default border is
    /// [`BorderType::Reflect`]). The gradient goes to the pixel holding the
    /// median (ties: the first in raster order).
    ///
    /// ```
    /// use pixgrad::BorderType;
    /// let ctx = pixgrad::Context::new()?;
    /// let img = pixgrad::Tensor::from_slice(&ctx, &[0.0, 9.0, 1.0, 2.0], &[1, 1, 1, 4])?;
    /// let out = img.median_blur([1, 3], BorderType::Replicate)?;
    /// assert_eq!(out.to_vec()?, vec![0.0, 1.0, 2.0, 2.0]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn median_blur(&self, kernel_size: [usize; 2], border: BorderType) -> Result<Tensor> {
        const OP: &str = "median_blur";
        let [n, c, h, w] = image_shape(OP, self)?;
        let [ky, kx] = kernel_size;
        check_odd(OP, ky)?;
        check_odd(OP, kx)?;
        if ky * kx > MAX_MEDIAN_TAPS {
            return Err(Error::InvalidArgument {
                op: OP,
                name: "kernel_size",
                reason: format!("at most {MAX_MEDIAN_TAPS} cells, got {ky}x{kx}"),
            });
        }
        if let BorderType::Constant(v) = border
            && !v.is_finite()
        {
            return Err(Error::InvalidArgument { op: OP, name: "border", reason: format!("must be finite, got {v}") });
        }
        let window = Window { planes: n * c, height: h, width: w, size: kernel_size, origin: [ky / 2, kx / 2], border };
        let unused = Tensor::uninit(self.context(), OP, &[1])?;
        select(OP, self, window, Selection::Median, &unused)
    }
}
