"""Finding complaints that look alike: the text scorer and the in-memory index behind it.

Pure computation (numpy only, no model to download): `text` turns a complaint into a
TF-IDF vector of hashed character n-grams, `index` keeps many of them and answers "which
stored complaints are closest to this one". The activity (`activities.similarity`), the
recurrence KPI (`kpi`) and `bench/similarity.py` all use the same code, so the figures
the bench prints are the figures of the running system.
"""

METHOD = "tfidf-char-ngrams"
# Bumped whenever normalisation, n-gram sizes, hashing, weighting or the score change: a
# score in the audit log is only comparable with scores of the same version.
METHOD_VERSION = "1"
