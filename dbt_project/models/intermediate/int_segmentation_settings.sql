{#- The run's fit settings as one typed row: vars and preset resolved by macro
    segmentation_settings (which stops the build on a bad var, naming it). The Python fits
    read this row (customer_segmentation.settings.SegmentationSettings.from_arrow). Integers
    are checked in the macro before they are written here; text is quoted by sql_text. -#}
{%- set settings = segmentation_settings() -%}

with final as (

    select
        {{ sql_text(settings.preset) }} as preset,
        cast({{ settings.k }} as integer) as k,
        cast({{ settings.k_min }} as integer) as k_min,
        cast({{ settings.k_max }} as integer) as k_max,
        {{ sql_text(settings.k_rule) }} as k_rule,
        cast({{ settings.random_state }} as bigint) as random_state,
        cast({{ 'null' if settings.n_init is none else settings.n_init }} as integer) as n_init,
        cast({{ settings.best_repeats }} as integer) as best_repeats,
        cast({{ settings.ward_max_rows }} as bigint) as ward_max_rows,
        cast({{ settings.silhouette_max_rows }} as bigint) as silhouette_max_rows,
        cast({{ settings.silhouette_sample_size }} as bigint) as silhouette_sample_size,
        cast({{ settings.diagnostics_max_rows }} as bigint) as diagnostics_max_rows,
        cast({{ settings.stability_resamples }} as integer) as stability_resamples,
        cast({{ settings.stability_n_init }} as integer) as stability_n_init,
        cast({{ settings.stability_sample_size }} as bigint) as stability_sample_size,
        cast({{ settings.scoring_check_rows }} as bigint) as scoring_check_rows,
        {{ sql_text(settings.warm_start) }} as warm_start,
        {{ sql_text(settings.warm_start_units) }} as warm_start_units,
        {{ sql_text(settings.spark_diagnostics) }} as spark_diagnostics,
        {{ sql_text(settings.input_label) }} as input_label

)

select * from final
