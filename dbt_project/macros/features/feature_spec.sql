{#-
    feature_spec()

    The feature set this build segments on, checked and with every default filled in. It is
    the one place features are declared (vars `features` / `feature_sets` in dbt_project.yml,
    documented there and in README "Feature configuration"); staging, the feature models, the
    marts and SQL scoring all read it, and int_feature_definitions hands it to the Python fit.

    var `features`: null = the feature set named like the preset; a string = a set from
    `feature_sets`; a mapping = a whole feature set given on the command line.

    Returns a dict:
      input_kind      'customers' | 'transactions'
      numeric         list of dicts: name, column, source_key (lowercased column), label,
                      missing ('reject' | 'zero'), missing_flag, min, transform ('none' |
                      'log1p'), summable, role, name_words, name_levels, code_of (or none)
      categorical     list of dicts: name, column, source_key, lookup, code_column,
                      plural
      one_hot_order   categorical names in fit order
      name_parts      names that make a segment name, name_separator
      measures        the numeric features that are not a categorical's code (reported in the
                      marts in original units)
-#}
{% macro feature_spec() %}
    {%- set sets = var('feature_sets') -%}
    {%- set chosen = var('features', none) -%}
    {%- set preset = var('preset', 'default') or 'default' -%}
    {%- if chosen is none or chosen == '' -%}
        {%- if preset not in sets -%}
            {{ exceptions.raise_compiler_error("var 'preset': no feature set named '" ~ preset ~ "' in var 'feature_sets' (" ~ (sets.keys() | list | join(', ')) ~ ')') }}
        {%- endif -%}
        {%- set raw = sets[preset] -%}
        {%- set label = "feature set '" ~ preset ~ "'" -%}
    {%- elif chosen is string -%}
        {%- if chosen not in sets -%}
            {{ exceptions.raise_compiler_error("var 'features': no feature set named '" ~ chosen ~ "' in var 'feature_sets' (" ~ (sets.keys() | list | join(', ')) ~ ')') }}
        {%- endif -%}
        {%- set raw = sets[chosen] -%}
        {%- set label = "feature set '" ~ chosen ~ "'" -%}
    {%- elif chosen is mapping -%}
        {%- set raw = chosen -%}
        {%- set label = "var 'features'" -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("var 'features': expected a feature set name or a mapping, got " ~ chosen) }}
    {%- endif -%}

    {%- set input_kind = raw.get('input_kind', 'customers') -%}
    {%- if input_kind not in ['customers', 'transactions'] -%}
        {{ exceptions.raise_compiler_error(label ~ ": input_kind must be customers or transactions, got '" ~ input_kind ~ "'") }}
    {%- endif -%}

    {%- set categorical = [] -%}
    {%- for item in raw.get('categorical') or [] -%}
        {%- if item.get('name') is none or item.get('lookup') is none -%}
            {{ exceptions.raise_compiler_error(label ~ ': every categorical feature needs a name and a lookup seed, got ' ~ item) }}
        {%- endif -%}
        {%- if input_kind == 'transactions' -%}
            {{ exceptions.raise_compiler_error(label ~ ': categorical features are not supported with transaction input') }}
        {%- endif -%}
        {%- set column = item.get('column') or item.name -%}
        {%- do categorical.append({
            'name': item.name,
            'column': column,
            'source_key': column | lower,
            'lookup': item.lookup,
            'code_column': item.name ~ '_code',
            'plural': item.get('plural') or item.name ~ 's',
        }) -%}
    {%- endfor -%}
    {%- set categorical_names = categorical | map(attribute='name') | list -%}

    {%- set rfm_measures = ['recency_days', 'frequency', 'monetary', 'mean_unit_cost'] -%}
    {%- set numeric = [] -%}
    {%- for item in raw.get('numeric') or [] -%}
        {%- set code_of = item.get('code_of') -%}
        {%- if code_of is not none and code_of not in categorical_names -%}
            {{ exceptions.raise_compiler_error(label ~ ": code_of '" ~ code_of ~ "' is not a categorical feature (" ~ (categorical_names | join(', ')) ~ ')') }}
        {%- endif -%}
        {%- set name = (code_of ~ '_code') if code_of else item.get('name') -%}
        {%- if name is none -%}
            {{ exceptions.raise_compiler_error(label ~ ': every numeric feature needs a name, got ' ~ item) }}
        {%- endif -%}
        {%- if input_kind == 'transactions' and name not in rfm_measures -%}
            {{ exceptions.raise_compiler_error(label ~ ": with transaction input the numeric features are aggregates; '" ~ name ~ "' is not one of " ~ (rfm_measures | join(', '))) }}
        {%- endif -%}
        {%- set transform = item.get('transform') or 'none' -%}
        {%- if transform not in ['none', 'log1p'] -%}
            {{ exceptions.raise_compiler_error(label ~ ": feature '" ~ name ~ "': transform must be none or log1p, got '" ~ transform ~ "'") }}
        {%- endif -%}
        {%- set missing = item.get('missing') or 'reject' -%}
        {%- if missing not in ['reject', 'zero'] -%}
            {{ exceptions.raise_compiler_error(label ~ ": feature '" ~ name ~ "': missing must be reject or zero, got '" ~ missing ~ "'") }}
        {%- endif -%}
        {%- set name_levels = item.get('name_levels') -%}
        {%- if name_levels is not none and not (name_levels | length == 2 and 0 < name_levels[1] < name_levels[0] < 1) -%}
            {{ exceptions.raise_compiler_error(label ~ ": feature '" ~ name ~ "': name_levels are [high, low] mean positions of a segment's customers among all customers, 0 < low < high < 1 (default [0.8, 0.2]); got " ~ name_levels) }}
        {%- endif -%}
        {%- set column = item.get('column') or name -%}
        {%- do numeric.append({
            'name': name,
            'column': column,
            'source_key': column | lower,
            'label': item.get('label') or name | replace('_', ' '),
            'missing': missing,
            'missing_flag': (item.get('missing_flag') or name ~ '_was_missing') if missing == 'zero' else none,
            'min': item.get('min') if item.get('min') is not none else (0 if transform == 'log1p' else none),
            'transform': transform,
            'summable': item.get('summable', false) is true,
            'role': item.get('role'),
            'name_words': item.get('name_words'),
            'name_levels': item.get('name_levels'),
            'code_of': code_of,
        }) -%}
    {%- endfor -%}
    {%- if numeric | length == 0 and categorical | length == 0 -%}
        {{ exceptions.raise_compiler_error(label ~ ': no features (numeric and categorical are both empty)') }}
    {%- endif -%}

    {%- set one_hot_order = raw.get('one_hot_order') or categorical_names -%}
    {%- if (one_hot_order | sort | list) != (categorical_names | sort | list) -%}
        {{ exceptions.raise_compiler_error(label ~ ': one_hot_order ' ~ one_hot_order ~ ' must list the categorical features ' ~ categorical_names) }}
    {%- endif -%}

    {{ return({
        'label': label,
        'input_kind': input_kind,
        'numeric': numeric,
        'measures': numeric | rejectattr('code_of') | list,
        'categorical': categorical,
        'one_hot_order': one_hot_order,
        'name_parts': raw.get('name_parts') or ((numeric | rejectattr('code_of') | map(attribute='name') | list) + categorical_names),
        'name_separator': raw.get('name_separator') or ' ',
    }) }}
{% endmacro %}
