"""Metrics: Frechet distance / FVD (I3D or proxy features), IS, PSNR, SSIM (grayscale, the official convention)
(paper Sec. 4.1, Tab. 3;
official ``videogvt/train_lib/eval_utils.py``).

Every table names its FVD: "FVD (I3D)" uses :class:`I3DFeatures` (TF-Hub, needs the weights),
"FVD (proxy)" uses the study's own evaluator (:func:`get_evaluator`), validated in notebook 02.
"""

from magvit.metrics.frechet import (
           FVDResult,
           feature_stats,
           frechet_distance,
           frechet_distance_from_stats,
           fvd,
           fvd_groups,
)
from magvit.metrics.i3d import I3DFeatures
from magvit.metrics.image import LPIPS_NA, psnr, ssim, ssim_frames
from magvit.metrics.inception import inception_score
from magvit.metrics.proxy import ProxyEvaluator, get_evaluator, heldout_accuracy, proxy_fvd

__all__ = ["FVDResult", "I3DFeatures", "LPIPS_NA", "ProxyEvaluator", "feature_stats", "frechet_distance",
           "frechet_distance_from_stats", "fvd", "fvd_groups", "get_evaluator", "heldout_accuracy", "inception_score",
           "proxy_fvd", "psnr", "ssim", "ssim_frames"]
