"""The publish pipeline: stages, fingerprints, manifests, and safe writing into the output folder."""
