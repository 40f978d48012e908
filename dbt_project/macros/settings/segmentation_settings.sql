{#-
    segmentation_settings(): the run's fit settings as one dict, resolved once (model
    int_segmentation_settings materialises it; the Python fits read that row).

    Order of precedence: a var set on the command line or in dbt_project.yml (not null) >
    the preset's entry in var `presets` > `presets.default`. Every value is checked here and a
    bad one stops the build with one line naming the var, e.g.
    "var 'k': expected an integer, got 'eight'".

    Example: {%- set settings = segmentation_settings() -%} {{ settings.k }}
-#}
{% macro segmentation_settings() %}
    {%- set presets = var('presets') -%}
    {%- set preset = var('preset', none) -%}
    {%- set preset = 'default' if _settings_unset(preset) else preset | string -%}
    {%- if preset not in presets -%}
        {{ exceptions.raise_compiler_error("var 'preset': unknown preset '" ~ preset ~ "'; use one of " ~ (presets.keys() | sort | join(', '))) }}
    {%- endif -%}
    {%- set integers = {
        'k': 1, 'k_min': 1, 'k_max': 1, 'random_state': 0, 'n_init': 1, 'best_repeats': 1, 'ward_max_rows': 2,
        'silhouette_max_rows': 2, 'silhouette_sample_size': 2, 'diagnostics_max_rows': 2,
        'stability_resamples': 0, 'stability_n_init': 1, 'stability_sample_size': 2,
        'scoring_check_rows': 1,
    } -%}
    {%- set choices = {
        'k_rule': ['fixed', 'silhouette', 'elbow'],
        'warm_start_units': ['original', 'z'],
        'spark_diagnostics': ['driver', 'mllib'],
    } -%}
    {%- set settings = {'preset': preset} -%}
    {%- for name in integers.keys() | list + choices.keys() | list -%}
        {%- set value = var(name, none) -%}
        {%- set where = "var '" ~ name ~ "'" -%}
        {%- if _settings_unset(value) -%}
            {%- set value = presets[preset].get(name, presets['default'].get(name)) -%}
            {%- set where = "var 'presets' (" ~ preset ~ "." ~ name ~ ")" -%}
        {%- endif -%}
        {%- if name in integers -%}
            {%- do settings.update({name: _settings_integer(where, value, integers[name])}) -%}
        {%- elif _settings_unset(value) -%}
            {%- do settings.update({name: choices[name][0]}) -%}
        {%- elif value | string | lower in choices[name] -%}
            {%- do settings.update({name: value | string | lower}) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(where ~ ": unknown value '" ~ value ~ "'; use one of " ~ (choices[name] | join(', '))) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if settings.k is none -%}
        {{ exceptions.raise_compiler_error("var 'k': no value and none in var 'presets'") }}
    {%- endif -%}
    {%- set warm_start = var('warm_start', none) -%}
    {%- do settings.update({
        'warm_start': none if _settings_unset(warm_start) else warm_start | string,
        'input_label': var('input_path', none) or var('input_relation', none) or ('seed ' ~ demo_seed()),
    }) -%}
    {%- do _settings_check_range(settings) -%}
    {{ return(settings) }}
{% endmacro %}


{#- True for a var that is not set: null, or text dbt rendered from null. -#}
{% macro _settings_unset(value) %}
    {{ return(value is none or (value is string and value | trim | lower in ['', 'none', 'null'])) }}
{% endmacro %}


{#- ``value`` as an integer >= minimum (none stays none), or an error naming ``where``. -#}
{% macro _settings_integer(where, value, minimum) %}
    {%- if _settings_unset(value) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- set whole = (value is number and value | int == value) or (value is string and text.lstrip('-').isdigit()) -%}
    {%- if value is boolean or not whole -%}
        {{ exceptions.raise_compiler_error(where ~ ": expected an integer, got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- set number = value | int -%}
    {%- if number < minimum -%}
        {{ exceptions.raise_compiler_error(where ~ ": must be at least " ~ minimum ~ ", got " ~ number) }}
    {%- endif -%}
    {{ return(number) }}
{% endmacro %}


{#- The checks between settings: the k range, and k inside it for the fixed rule. -#}
{% macro _settings_check_range(settings) %}
    {%- if settings.k_min is none or settings.k_max is none -%}
        {{ exceptions.raise_compiler_error("vars 'k_min' and 'k_max': no value and none in var 'presets'") }}
    {%- endif -%}
    {%- if settings.k_min > settings.k_max -%}
        {{ exceptions.raise_compiler_error("vars 'k_min' (" ~ settings.k_min ~ ") > 'k_max' (" ~ settings.k_max ~ ")") }}
    {%- endif -%}
    {%- if settings.k_rule == 'fixed' and not (settings.k_min <= settings.k <= settings.k_max) -%}
        {{ exceptions.raise_compiler_error("var 'k' (" ~ settings.k ~ ") is outside the diagnostics range k_min..k_max (" ~ settings.k_min ~ ".." ~ settings.k_max ~ "); widen the range or change k") }}
    {%- endif -%}
    {%- if settings.k_rule == 'silhouette' and settings.k_max < 2 -%}
        {{ exceptions.raise_compiler_error("var 'k_rule': silhouette needs k_max >= 2") }}
    {%- endif -%}
{% endmacro %}
