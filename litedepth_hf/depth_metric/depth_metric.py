"""`evaluate` metric module for metric depth, MAI 2022 protocol.

Load with `evaluate.load("<litedepth_hf>/depth_metric")`; the maths lives in
`litedepth_hf.metrics` so the Raspberry Pi side can use it without `evaluate`.
"""

import datasets
import evaluate

from litedepth_hf.metrics import depth_metrics

_DESCRIPTION = """Depth metrics under the MAI 2022 protocol: depth in millimetres, predictions below 1 mm set
to 1 mm, GT <= 1 mm ignored; si-RMSE (population std of the log difference), RMSE (m), AbsRel, SqRel,
log10 and delta < 1.25^k, per image then averaged. With `runtime_ms`, also the MAI score
2^(-20 si-RMSE) / runtime (relative: the challenge's constant C is left at 1)."""

_KWARGS_DESCRIPTION = """
Args:
    predictions: depth maps in metres, one (H, W) array per image.
    references: ground-truth depth maps in metres, same sizes; 0, NaN, inf or <= 1 mm are invalid.
    runtime_ms: optional latency per frame, for the MAI score.
Returns:
    si_rmse, rmse, abs_rel, sq_rel, log10, delta1, delta2, delta3, num_images (and mai_score).
"""

_CITATION = """@inproceedings{li2022litedepth,
  title={LiteDepth: Digging into Fast and Accurate Depth Estimation on Mobile Devices},
  author={Li, Zhenyu and Chen, Zehui and Xu, Jialei and Liu, Xianming and Jiang, Junjun},
  booktitle={ECCV Workshops}, year={2022}}"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class DepthMetric(evaluate.Metric):
    def _info(self):
        depth_map = datasets.Sequence(datasets.Sequence(datasets.Value("float32")))
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": depth_map, "references": depth_map}),
        )

    def _compute(self, predictions, references, runtime_ms=None):
        return depth_metrics(predictions, references, runtime_ms=runtime_ms)
