"""Scale-out on Ray: the same pipeline as Ray tasks on long-lived actors, one machine or a cluster.

Nothing here is imported by `veil` unless the Ray engine is asked for (`scale.engine: ray`,
`veil redact --engine ray`, `veil mine --engine ray`): `import veil` never imports ray.

- `runtime`: starts a local Ray (no dashboard, no usage statistics, nothing downloaded) or joins
  the cluster named by `RAY_ADDRESS`.
- `segments`: the actor that holds a pipeline (OCR engines and detectors loaded once) and runs
  whole segments: decode, change tracking, OCR, detectors, redaction, verification.
- `work`: the driver's side of `veil redact --engine ray`: segments in flight (a bounded window),
  results in frame order, a lost actor's segment retried on a fresh one.
- `mining`: `veil mine --engine ray`: events per recording and segmentation per user as tasks.
"""
