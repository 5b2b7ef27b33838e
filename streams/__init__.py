"""The faust stream processor: Kafka in, Temporal out, dead letters for bad input."""
