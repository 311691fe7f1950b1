"""Push analysis to the data (issue 7): providers publish logical views of the archive made by
modifying maps, resellers chain their own maps after them, analysts send sandboxed jobs.

One module per job: ``maps`` (what a modifying map is), ``chain`` (composing maps and running
them over Arrow batches), ``scan`` (the archive read with filters pushed into Parquet),
``seccomp_policy`` + ``sandbox`` + ``sandbox_runner`` (untrusted analyst code), ``engine``
(local process pool or Dask), ``attributes`` (Ed25519 attribute assertions), ``store``
(SQLite), ``catalogue``, ``party`` (a provider or reseller service) and ``api`` (REST).
"""
