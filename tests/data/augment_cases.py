"""Generates augment_cases.txt: Kornia's augmentation transforms applied in
float64 with parameters Kornia drew, for tests/augment.rs (which gives the
same parameters to pixgrad's transforms). Values to 10 digits.

Lines come in pairs, a name and its values (row-major):
  image                  [3, 3, 12, 20] in [0, 1] (f32 values)
  affine.angle, affine.translations, affine.scale, affine.shear_x,
  affine.shear_y, affine.out       RandomAffine(20, (0.1, 0.2), (0.8, 1.2), 10)
  rotation.degrees, rotation.out   RandomRotation(45)
  perspective.end_points, perspective.out   RandomPerspective(0.4)
  jitter.brightness_factor, jitter.contrast_factor, jitter.saturation_factor,
  jitter.hue_factor,
  jitter.order, jitter.out         ColorJitter(0.3, 0.4, 0.5, 0.1) (torchvision's
                                   formulas); jiggle.*: ColorJiggle (Kornia's)
Geometric transforms with align_corners=True: Kornia's pixel-space
matrices then mean what they mean in OpenCV, pixgrad's convention (Kornia's
default, False, samples the same matrices about 0.5 px off at the far edges).

Run with torch and kornia (0.9) installed: python tests/data/augment_cases.py
"""
import kornia.augmentation as K
import torch

from fixtures import f32, line, write


def main():
    torch.manual_seed(17)
    image = f32(torch.rand(3, 3, 12, 20, dtype=torch.float64))
    lines = ["image", line(image)]

    def run(name, aug, keys):
        aug = aug.double()
        params = aug.forward_parameters(image.shape)
        out = aug(image, params=params)
        for key in keys:
            lines.extend([f"{name}.{key}", line(params[key].double(), digits=10)])
        lines.extend([f"{name}.out", line(out, digits=10)])

    run(
        "affine",
        K.RandomAffine(20.0, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=10.0, p=1.0, align_corners=True),
        ["angle", "translations", "scale", "shear_x", "shear_y"],
    )
    run("rotation", K.RandomRotation(45.0, p=1.0, align_corners=True), ["degrees"])
    run("perspective", K.RandomPerspective(0.4, p=1.0, align_corners=True), ["start_points", "end_points"])
    factors = ["brightness_factor", "contrast_factor", "saturation_factor", "hue_factor", "order"]
    run("jitter", K.ColorJitter(0.3, 0.4, 0.5, 0.1, p=1.0), factors)
    run("jiggle", K.ColorJiggle(0.3, 0.4, 0.5, 0.1, p=1.0), factors)
    write("augment_cases.txt", lines)


if __name__ == "__main__":
    main()
