"""Restoring beyond one image and one machine (issue 20): collections and clusters with Dask.

Files (and the chunks of large images) are `dask.distributed` tasks: a LocalCluster
(``--cluster local[:N]``), an existing scheduler (``--cluster tcp://host:8786``) or a SLURM/PBS
cluster from dask-jobqueue (docs/cluster.md). Dask schedules, retries a dead worker's tasks
elsewhere and serves the dashboard; midnet adds only what Dask cannot know: how to load the
model once per worker (`loader`), how to commit an output exactly once and remember it with
checksums (`manifest`, `files`), how a large image becomes chunk tasks that a rerun completes
(`stores`), and the loop that runs them and reports (`runner`).

Nothing here is imported by ``import midnet``; it needs the ``cluster`` extra.
"""
