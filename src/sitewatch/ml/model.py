"""The Siamese change network: a small FC-Siam-diff U-Net (Caye Daudt et al., ICIP 2018).

Both dates go through one shared encoder; the decoder sees only absolute differences of
the encoder features at each scale (``|f1 - f2|``), so the network is symmetric in the
dates by construction and learns what a *change* looks like rather than what a scene
looks like. Widths are kept small on purpose: the full- and half-resolution levels carry
a single narrow convolution each and the two finest decoder steps are 1x1, because
inference must reach >= 2 Mpx/s per CPU core under onnxruntime and the fine levels
dominate the cost (a 3x3 half-resolution decoder step alone was a fifth of it).
"""

from __future__ import annotations

import torch
from torch import nn

#: Encoder widths per level (full, 1/2, 1/4, 1/8 resolution).
WIDTHS = (8, 16, 32, 64)
#: Input sides must be multiples of this (three 2x poolings).
STRIDE = 8


def _conv(in_channels: int, out_channels: int, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class SiameseDiffUNet(nn.Module):
    """``forward(before, after[, pair]) -> change logit`` shaped (n, 1, y, x).

    ``pair_channels`` > 0 adds maps that describe the pair rather than one date (a
    classical change score such as CVA's significance): they bypass the shared encoder,
    whose differences would cancel them, and join the decoder at its coarsest step
    (averaged down to 1/4, as context) and at its finest (as they are), so the network can
    weigh the classical evidence against what the images look like.
    """

    def __init__(
        self,
        in_channels: int,
        widths: tuple[int, ...] = WIDTHS,
        dropout: float = 0.0,
        pair_channels: int = 0,
    ) -> None:
        super().__init__()
        w1, w2, w3, w4 = widths
        self.pair_channels = pair_channels
        self.encoder = nn.ModuleList(
            [
                _conv(in_channels, w1),
                _conv(w1, w2),
                nn.Sequential(_conv(w2, w3), _conv(w3, w3)),
                nn.Sequential(_conv(w3, w4), _conv(w4, w4)),
            ]
        )
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        # The half- and full-resolution decoder steps are 1x1 convolutions: spatial
        # context comes from the coarser levels and the encoder, and 3x3 kernels there
        # would cost a third of the whole network.
        extra = pair_channels
        self.decoder = nn.ModuleList(
            [
                _conv(w4 + w3 + extra, w3),
                _conv(w3 + w2, w2, kernel=1),
                _conv(w2 + w1 + extra, w1, kernel=1),
            ]
        )
        self.coarse = nn.AvgPool2d(4)  # the resolution of the first decoder step
        self.head = nn.Conv2d(w1, 1, 1)
        # Optional dropout on the coarsest differences (training only), a regulariser.
        self.dropout = nn.Dropout2d(dropout)

    def _features(self, image: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for level, block in enumerate(self.encoder):
            image = block(image if level == 0 else self.pool(image))
            features.append(image)
        return features

    def forward(
        self, before: torch.Tensor, after: torch.Tensor, pair: torch.Tensor | None = None
    ) -> torch.Tensor:
        differences = [
            torch.abs(a - b)
            for a, b in zip(self._features(before), self._features(after), strict=True)
        ]
        extras: list[list[torch.Tensor]] = [[], [], []]
        if self.pair_channels:
            extras = [[self.coarse(pair)], [], [pair]]
        decoded = self.dropout(differences[-1])
        for block, skip, extra in zip(
            self.decoder, reversed(differences[:-1]), extras, strict=True
        ):
            decoded = block(torch.cat([self.up(decoded), skip, *extra], dim=1))
        return self.head(decoded)


class ProbabilityModel(nn.Module):
    """The network with a sigmoid on top: what is exported, so ONNX returns P(change)."""

    def __init__(self, network: SiameseDiffUNet) -> None:
        super().__init__()
        self.network = network

    def forward(self, before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.network(before, after))
