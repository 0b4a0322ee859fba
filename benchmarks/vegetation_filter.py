"""How many false positives the vegetation-phase filter removes, cross-validated by city.

Issue 15, item 2 ("built-up change, not seasons"). Protocol, fixed before the first run:

Data and folds. The ten labelled OSCD cities (``sitewatch.ml.oscd.LABELLED_CITIES``,
labels ``train_labels/<city>/cm/<city>-cm.tif``, 2 = change) in the five folds of
``sitewatch.ml.oscd.CV_FOLDS`` (two cities each). Every choice of the rule (its NDVI
thresholds, the share of flagged pixels that makes an object vegetation-phase, and whether
to filter at all) for the two cities of fold k is fitted on the other eight cities only.

Methods. ``cva`` and ``irmad`` exactly as a user runs them: ``detect_pair`` on the raw
per-band folders with default options (default bands B02 B03 B04 B08, automatic
threshold, clean-up, minimum mapping unit), compared with the labels on the grid of
``imgs_1``. With ``--oof DIR`` (or when /work/cv-oof exists) also the learned siamese
detector's out-of-fold probability maps ``DIR/<recipe>/<city>.npy`` (float16 P(change))
thresholded at their fold's threshold from the JSON beside them (no other post-processing).

The rule (``sitewatch.analysis.vegetation``) is applied to the change objects (8-connected
regions of the change mask): a changed pixel is vegetation-phase when the larger of its two
dates' NDVI is at least ``vegetated`` and the smaller at least ``floor`` (both dates
vegetation, or vegetation and bare soil/crop residue; water, roofs, concrete and asphalt
stay below any tried ``floor``); an object is vegetation-phase, and left out of the change
mask, when at least ``share`` of its pixels are. NDVI is computed from top-of-atmosphere
reflectance of B04 and B08, the bands the detection reads anyway.

Grid, fixed in advance: ``vegetated`` in {0.30, 0.35, ..., 0.60}; ``floor`` in {0.10,
0.15, ..., ``vegetated``} (``floor == vegetated``: only vegetation on both dates);
``share`` in {0.5, 0.67, 0.8, 0.9}; plus "no filter". Criterion: pooled change-class F1
over the eight training cities (summed pixel counts); ties go to the first in grid order
("no filter" first, then the most conservative rule: highest ``vegetated``, highest
``floor``, highest ``share``). Fitting evaluates the rule on each training city's
unfiltered mask and NDVI read by ``sitewatch.ml.oscd.load_city``. The numbers reported are
NOT that simulation: each city is run again through ``detect_pair`` with its fold's
fitted rule, and that output is what is scored (for the OOF maps, which have no pipeline
run, the rule applied to the thresholded map is scored). The default rule shipped in
``sitewatch.analysis.vegetation`` is fitted the same way on all ten cities; its
cross-validated estimate is the out-of-fold result below, not its fit.

Reported, per method: pooled change-class precision, recall, F1, IoU and the false- and
true-positive pixel counts before (filter off) and after (out-of-fold rule), over the ten
cities' out-of-fold predictions; per-city F1 before/after with min/median/max of the
per-city F1 change; each fold's fitted rule. Written to
benchmarks/results/vegetation_filter.json and vegetation_filter.md.

Run: .venv/bin/python benchmarks/vegetation_filter.py [--oof DIR] [--methods cva,irmad]
"""
