"""Data contracts: JSON Schemas per topic and version, and the Python models that mirror them."""
