"""Metrics: Frechet distance / FVD (I3D or proxy features), KVD (unbiased kernel distance) and the paired bootstrap
of a difference between rows, IS, PSNR, SSIM (grayscale, the official convention)
(paper Sec. 4.1, Tab. 3;
official ``videogvt/train_lib/eval_utils.py``).

Every table names its FVD: "FVD (I3D)" uses :class:`I3DFeatures` (TF-Hub, needs the weights),
"FVD (proxy)" uses the study's own evaluator (:func:`get_evaluator`), validated in notebook 02.
"""

from magvit.metrics.estimate import Estimate
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
from magvit.metrics.kernel import KVDResult, kernel_distance, kvd, prefer_kvd
from magvit.metrics.paired import RowFeatures, contrast, paired_difference
from magvit.metrics.proxy import ProxyEvaluator, get_evaluator, heldout_accuracy, proxy_fvd

__all__ = ["Estimate", "FVDResult", "I3DFeatures", "KVDResult", "LPIPS_NA", "ProxyEvaluator", "RowFeatures", "contrast",
           "feature_stats", "frechet_distance", "frechet_distance_from_stats", "fvd", "fvd_groups", "get_evaluator",
           "heldout_accuracy", "inception_score", "kernel_distance", "kvd", "paired_difference", "prefer_kvd",
           "proxy_fvd", "psnr", "ssim", "ssim_frames"]
