#!/bin/sh
# Regenerates novel_emotion_keys.inc from the reference key list (name<TAB>[shape]).
# Usage: sh tools/novel_emotion_keys.sh ../shared/reference/novel_emotion_keys.txt > tools/novel_emotion_keys.inc
set -eu
echo "/* The 588 state_dict entries of NovelEmotionModel (timm efficientnet_b3 backbone),"
echo " * generated from reference/novel_emotion_keys.txt by tools/novel_emotion_keys.sh."
echo " * {name, ndim, dims}; num_batches_tracked has shape [] (ndim 0). */"
awk -F'\t' '{
    s = $2; gsub(/[\[\] ]/, "", s);
    n = (s == "") ? 0 : split(s, d, ",");
    printf "{\"%s\", %d, {", $1, n;
    for (i = 1; i <= 4; i++) printf "%s%s", (i > 1 ? ", " : ""), (i <= n ? d[i] : 0);
    printf "}},\n";
}' "$1"
