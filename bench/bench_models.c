/* The model-benchmark registry (see bench_models.h). Empty until the model
 * helpers land: each adds {arch, description, run} here. */
#include <string.h>

#include "bench_models.h"

const sm_bench_model_runner sm_bench_model_runners[] = {
    /* {"efficientnet_b3_emotion", "NovelEmotionModel 300x300", bench_emotion_run}, */
    {NULL, NULL, NULL},
};
const size_t sm_bench_model_runner_count = 0;

const sm_bench_model_runner *sm_bench_model_find(const char *arch, size_t len)
{
    for (size_t i = 0; i < sm_bench_model_runner_count; i++)
        if (strlen(sm_bench_model_runners[i].arch) == len &&
            memcmp(sm_bench_model_runners[i].arch, arch, len) == 0)
            return &sm_bench_model_runners[i];
    return NULL;
}
