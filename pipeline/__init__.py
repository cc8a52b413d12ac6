"""The refresh pipeline's stages as functions over ports (typing.Protocol), run by any runner."""
