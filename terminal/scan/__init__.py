"""Reading customers' codes off camera frames: decoder backends, the pipeline, holds, the worker."""
