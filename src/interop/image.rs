//! `image` crate interop: `DynamicImage`s to `[N, C, H, W]` tensors and back.
//!
//! Grey (C = 1), grey-alpha (2), RGB (3) and RGBA (4), with 8-bit, 16-bit
//! or f32 samples. Samples are uploaded as they are, interleaved, and
//! converted to f32 planes on the GPU: integers map to [0, 1] as `v / 255`
//! or `v / 65535`; f32 samples are kept. Back, integers are clamped to
//! [0, 1] and rounded to nearest, so integer round trips are exact.

use std::path::Path;

use image::DynamicImage;

use crate::error::{Error, Result};
use crate::gpu::Context;
use crate::gpu::kernel::{Dispatch, Kernel, Shader, grid_1d, params_bytes, shader};
use crate::shape::check_shape;
use crate::tensor::Tensor;

static IMAGE: Shader = shader!("interop/image.wgsl");

/// Sample type of an image read back from a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SampleType {
    /// 8-bit samples, `round(clamp(v, 0, 1) · 255)`.
    U8,
    /// 16-bit samples, `round(clamp(v, 0, 1) · 65535)`.
    U16,
    /// f32 samples, unchanged (RGB and RGBA only: `image` has no f32 grey).
    F32,
}

impl SampleType {
    fn bytes(self) -> usize {
        match self {
            SampleType::U8 => 1,
            SampleType::U16 => 2,
            SampleType::F32 => 4,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ImageParams {
    pixels: u32,
    channels: u32,
    off_in: u32,
    off_out: u32,
    samples: u32,
    _pad: [u32; 3],
}

/// An image's interleaved samples as bytes, with its layout.
struct Samples<'a> {
    bytes: &'a [u8],
    channels: usize,
    sample: SampleType,
}

fn samples(image: &DynamicImage) -> Result<Samples<'_>> {
    use DynamicImage as D;
    let (bytes, channels, sample): (&[u8], usize, SampleType) = match image {
        D::ImageLuma8(i) => (i.as_raw(), 1, SampleType::U8),
        D::ImageLumaA8(i) => (i.as_raw(), 2, SampleType::U8),
        D::ImageRgb8(i) => (i.as_raw(), 3, SampleType::U8),
        D::ImageRgba8(i) => (i.as_raw(), 4, SampleType::U8),
        D::ImageLuma16(i) => (bytemuck::cast_slice(i.as_raw()), 1, SampleType::U16),
        D::ImageLumaA16(i) => (bytemuck::cast_slice(i.as_raw()), 2, SampleType::U16),
        D::ImageRgb16(i) => (bytemuck::cast_slice(i.as_raw()), 3, SampleType::U16),
        D::ImageRgba16(i) => (bytemuck::cast_slice(i.as_raw()), 4, SampleType::U16),
        D::ImageRgb32F(i) => (bytemuck::cast_slice(i.as_raw()), 3, SampleType::F32),
        D::ImageRgba32F(i) => (bytemuck::cast_slice(i.as_raw()), 4, SampleType::F32),
        other => return Err(Error::Image(format!("unsupported pixel type {:?}", other.color()))),
    };
    Ok(Samples { bytes, channels, sample })
}

fn depth_constant(sample: SampleType) -> [(&'static str, u32); 1] {
    [("DEPTH", sample.bytes() as u32)]
}

impl Tensor {
    /// One image as a `[1, C, H, W]` tensor in [0, 1] (see the module docs
    /// for the channel counts and sample types).
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 2));
    /// let t = pixgrad::Tensor::from_image(&ctx, &img)?;
    /// assert_eq!(t.shape(), &[1, 3, 2, 4]);
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn from_image(ctx: &Context, image: &DynamicImage) -> Result<Tensor> {
        Self::from_images(ctx, std::slice::from_ref(image))
    }

    /// Equal-sized images of one pixel type as a batch `[N, C, H, W]`.
    pub fn from_images(ctx: &Context, images: &[DynamicImage]) -> Result<Tensor> {
        let first = images.first().ok_or_else(|| Error::Image("from_images needs at least one image".into()))?;
        let layout = samples(first)?;
        let (w, h) = (first.width() as usize, first.height() as usize);
        let shape = [images.len(), layout.channels, h, w];
        check_shape("from_images", &shape)?;
        let out = Tensor::uninit(ctx, "from_images", &shape)?;
        let plane = layout.channels * h * w;
        for (n, image) in images.iter().enumerate() {
            let s = samples(image)?;
            if (image.width() as usize, image.height() as usize) != (w, h)
                || (s.channels, s.sample) != (layout.channels, layout.sample)
            {
                return Err(Error::Image(format!(
                    "image {n} is {}x{} {:?}, the first is {w}x{h} {:?}: a batch needs one size and pixel type",
                    image.width(),
                    image.height(),
                    image.color(),
                    first.color()
                )));
            }
            let packed = ctx.alloc("from_images", (s.bytes.len() as u64).next_multiple_of(4))?;
            ctx.upload(s.bytes, packed.buffer(), 0);
            let params = ImageParams {
                pixels: (w * h) as u32,
                channels: s.channels as u32,
                off_in: 0,
                off_out: (n * plane) as u32,
                samples: plane as u32,
                _pad: [0; 3],
            };
            let kernel = Kernel { shader: &IMAGE, entry: "unpack", reads: 1, writes: 1 };
            let dispatch = Dispatch {
                kernel: &kernel,
                constants: &depth_constant(s.sample),
                params: params_bytes(&params),
                buffers: &[packed.buffer(), out.buffer()],
                groups: grid_1d(plane as u32),
            };
            ctx.dispatch("from_images", dispatch)?;
        }
        Ok(out)
    }

    fn image_layout(&self, op: &'static str) -> Result<[usize; 4]> {
        match *self.shape() {
            [n, c, h, w] if (1..=4).contains(&c) => Ok([n, c, h, w]),
            [c, h, w] if (1..=4).contains(&c) => Ok([1, c, h, w]),
            _ => Err(Error::InvalidShape {
                op,
                shape: self.shape().to_vec(),
                reason: "expected [N, C, H, W] or [C, H, W] with C = 1 to 4".into(),
            }),
        }
    }

    /// A single image `[1, C, H, W]` or `[C, H, W]` as an 8-bit image.
    pub fn to_image(&self) -> Result<DynamicImage> {
        self.to_image_as(SampleType::U8)
    }

    /// A single image as an image with the given sample type.
    pub fn to_image_as(&self, sample: SampleType) -> Result<DynamicImage> {
        let [n, ..] = self.image_layout("to_image")?;
        if n != 1 {
            return Err(Error::InvalidShape {
                op: "to_image",
                shape: self.shape().to_vec(),
                reason: "one image expected; use to_images for a batch".into(),
            });
        }
        Ok(self.to_images_as(sample)?.remove(0))
    }

    /// Every image of a batch `[N, C, H, W]`, 8-bit.
    pub fn to_images(&self) -> Result<Vec<DynamicImage>> {
        self.to_images_as(SampleType::U8)
    }

    /// Every image of a batch with the given sample type. Converted on the
    /// GPU, then read back once.
    pub fn to_images_as(&self, sample: SampleType) -> Result<Vec<DynamicImage>> {
        let [n, c, h, w] = self.image_layout("to_images")?;
        if sample == SampleType::F32 && c < 3 {
            return Err(Error::Image("f32 images need 3 or 4 channels (the image crate has no f32 grey)".into()));
        }
        let ctx = self.context();
        let plane = c * h * w;
        let plane_bytes = (plane * sample.bytes()).next_multiple_of(4);
        let packed = ctx.alloc("to_images", (n * plane_bytes) as u64)?;
        let kernel = Kernel { shader: &IMAGE, entry: "pack", reads: 1, writes: 1 };
        for i in 0..n {
            let params = ImageParams {
                pixels: (w * h) as u32,
                channels: c as u32,
                off_in: (i * plane) as u32,
                off_out: (i * plane_bytes / 4) as u32,
                samples: plane as u32,
                _pad: [0; 3],
            };
            let dispatch = Dispatch {
                kernel: &kernel,
                constants: &depth_constant(sample),
                params: params_bytes(&params),
                buffers: &[self.buffer(), packed.buffer()],
                groups: grid_1d((plane_bytes / 4) as u32),
            };
            ctx.dispatch("to_images", dispatch)?;
        }
        let bytes = ctx.read(packed.buffer(), 0, (n * plane_bytes) as u64)?;
        let (w, h) = (w as u32, h as u32);
        bytes.chunks(plane_bytes).map(|chunk| build_image(&chunk[..plane * sample.bytes()], c, w, h, sample)).collect()
    }

    /// Saves a single image `[1, C, H, W]` or `[C, H, W]` as an 8-bit PNG.
    ///
    /// ```
    /// let ctx = pixgrad::Context::new()?;
    /// let t = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 8, 8], 0.0, 1.0, 1)?;
    /// let path = std::env::temp_dir().join("pixgrad-doc.png");
    /// t.save_png(&path)?;
    /// # Ok::<(), pixgrad::Error>(())
    /// ```
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.to_image()?
            .save_with_format(path, image::ImageFormat::Png)
            .map_err(|e| Error::Image(format!("writing {}: {e}", path.display())))
    }
}

fn build_image(bytes: &[u8], channels: usize, w: u32, h: u32, sample: SampleType) -> Result<DynamicImage> {
    use image::ImageBuffer as B;
    let invalid = || Error::Image("pixel buffer of the wrong size".into());
    let u16s = || bytemuck::pod_collect_to_vec::<u8, u16>(bytes);
    let f32s = || bytemuck::pod_collect_to_vec::<u8, f32>(bytes);
    let u8s = || bytes.to_vec();
    Ok(match (sample, channels) {
        (SampleType::U8, 1) => DynamicImage::ImageLuma8(B::from_raw(w, h, u8s()).ok_or_else(invalid)?),
        (SampleType::U8, 2) => DynamicImage::ImageLumaA8(B::from_raw(w, h, u8s()).ok_or_else(invalid)?),
        (SampleType::U8, 3) => DynamicImage::ImageRgb8(B::from_raw(w, h, u8s()).ok_or_else(invalid)?),
        (SampleType::U8, _) => DynamicImage::ImageRgba8(B::from_raw(w, h, u8s()).ok_or_else(invalid)?),
        (SampleType::U16, 1) => DynamicImage::ImageLuma16(B::from_raw(w, h, u16s()).ok_or_else(invalid)?),
        (SampleType::U16, 2) => DynamicImage::ImageLumaA16(B::from_raw(w, h, u16s()).ok_or_else(invalid)?),
        (SampleType::U16, 3) => DynamicImage::ImageRgb16(B::from_raw(w, h, u16s()).ok_or_else(invalid)?),
        (SampleType::U16, _) => DynamicImage::ImageRgba16(B::from_raw(w, h, u16s()).ok_or_else(invalid)?),
        (SampleType::F32, 3) => DynamicImage::ImageRgb32F(B::from_raw(w, h, f32s()).ok_or_else(invalid)?),
        (SampleType::F32, _) => DynamicImage::ImageRgba32F(B::from_raw(w, h, f32s()).ok_or_else(invalid)?),
    })
}
