"""The demo station: a commercial and nightlife district modelled on the real one in docs/domain.md."""
