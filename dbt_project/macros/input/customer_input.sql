{#-
    customer_input(input_path=none, input_relation=none, var_prefix='input', wanted=none, seed=none)

    Where raw input rows come from, and the fatal checks on them. Called with the fit input
    (vars input_path / input_relation) and with new customers to score (var score_input_path),
    for customer rows and for transaction rows alike.
      wanted   list of {key, shown, required}: the source columns to find (key lowercased);
               default the feature set's input columns (macro input_columns)
      seed     the demo seed read when neither path nor relation is given
    Returns a dict:
      from_sql     the relation or table function to select from
      label        how error messages and rejected rows name the input (file path, table, or seed)
      columns      key -> quoted source column, for every wanted column found
      row_number   SQL for a stable 1-based data-row number in source order

    Choice of input (first one set wins):
      input_path      a CSV or Parquet file (.parquet / .pq are read as Parquet)
      input_relation  an existing table or view, "schema.table" or "table"
      otherwise       the demo seed, through ref() so `dbt build` stays one command

    Fatal problems stop the build here, before any segment table is written, with a message
    that names the input and the column: file missing, empty file, header only, required column
    missing. Column names match case-insensitively; extra columns are ignored.
-#}
{% macro customer_input(input_path=none, input_relation=none, var_prefix='input', wanted=none, seed=none) %}
    {%- set wanted = wanted if wanted is not none else input_columns() -%}
    {%- set seed = seed or demo_seed() -%}
    {%- set wanted_keys = wanted | map(attribute='key') | list -%}

    {%- if input_path -%}
        {{ check_files_readable(input_path, var_prefix) }}
    {%- endif -%}
    {%- set file = none -%}
    {%- if input_path -%}
        {%- set file = input_file(input_path, var_prefix) -%}
        {%- set label = file.label -%}
        {%- if file.kind == 'parquet' -%}
            {%- set kind, from_sql, probe_sql = 'parquet', file.read_sql, file.read_sql -%}
            {%- set row_number = file.row_number -%}
        {%- else -%}
            {%- set kind, from_sql, probe_sql = 'csv', file.staged, file.probe_sql -%}
            {%- set row_number = 'source_row_number' -%}
        {%- endif -%}
    {%- elif input_relation -%}
        {%- set kind = 'relation' -%}
        {%- set from_sql = quoted_relation(input_relation, var_prefix ~ '_relation') -%}
        {%- set probe_sql = from_sql -%}
        {%- set label = var_prefix ~ "_relation '" ~ (input_relation | replace("'", "''")) ~ "'" -%}
        {%- set row_number = scan_row_number() -%}
    {%- else -%}
        {%- set kind = 'seed' -%}
        {%- set from_sql = ref(seed) | string -%}
        {%- set probe_sql = from_sql -%}
        {%- set label = "seed '" ~ seed ~ "'" -%}
        {%- set row_number = scan_row_number() -%}
    {%- endif -%}

    {%- set columns = {} -%}
    {%- if execute -%}
        {%- if input_path -%}
            {{ check_input_file(file, label) }}
        {%- elif input_relation -%}
            {{ check_relation_exists(input_relation, label) }}
        {%- endif -%}

        {%- set names = input_column_names(probe_sql, input_relation, seed, kind) -%}
        {%- if kind == 'csv' -%}
            {{ check_header_unique(file, label) }}
        {%- endif -%}
        {%- for name in names -%}
            {%- set key = name | lower | trim -%}
            {%- if key in wanted_keys -%}
                {%- do columns.update({key: adapter.quote(name)}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set row_count = run_query('select count(*) from ' ~ probe_sql).columns[0].values()[0] -%}
        {%- if row_count == 0 and kind == 'csv' -%}
            {{ check_some_line_read(file, label) }}
        {%- endif -%}
        {%- if row_count == 0 -%}
            {{ exceptions.raise_compiler_error(label ~ ': no data rows (header only)') }}
        {%- endif -%}
        {%- for column in wanted -%}
            {%- if column.required and column.key not in columns -%}
                {{ exceptions.raise_compiler_error(
                    label ~ ": required column '" ~ column.shown ~ "' is missing (columns found: "
                    ~ (names | join(', ')) ~ ')'
                ) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}

    {{ return({
        'kind': kind, 'from_sql': from_sql, 'label': label, 'columns': columns,
        'row_number': row_number, 'errors': file.errors if kind == 'csv' else none,
    }) }}
{% endmacro %}


{#- Stops the build when a file name cannot be read on this engine (Spark: see
    spark_input_file.sql). -#}
{% macro check_files_readable(input_path, var_prefix) %}
    {{- return(adapter.dispatch('check_files_readable', 'customer_segmentation')(input_path, var_prefix)) -}}
{% endmacro %}


{% macro default__check_files_readable(input_path, var_prefix) -%}{%- endmacro %}


{#- Stops the build when the file is missing or empty; on Spark it also reads the file into
    temporary views (see spark_input_file.sql). -#}
{% macro check_input_file(file, label) %}
    {{- return(adapter.dispatch('check_input_file', 'customer_segmentation')(file, label)) -}}
{% endmacro %}


{% macro default__check_input_file(file, label) %}
    {%- set found = run_query('select count(*) from glob(' ~ file.path_sql ~ ')').columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {{ exceptions.raise_compiler_error(label ~ ': file not found (relative paths start at the repository root)') }}
    {%- endif -%}
    {%- set size = run_query('select size from read_blob(' ~ file.path_sql ~ ')').columns[0].values()[0] -%}
    {%- if size == 0 -%}
        {{ exceptions.raise_compiler_error(label ~ ': file is empty (0 bytes)') }}
    {%- endif -%}
{% endmacro %}


{#- Called when a CSV has no parsed row: stops the build when the engine rejected every line,
    with the most common reason and a hint (a UTF-16 byte order mark read as UTF-8, ...). -#}
{% macro check_some_line_read(file, label) %}
    {{- return(adapter.dispatch('check_some_line_read', 'customer_segmentation')(file, label)) -}}
{% endmacro %}


{% macro default__check_some_line_read(file, label) %}
    {%- set failed = run_query(
        'select count(distinct line), min(error_type) from ' ~ file.staged ~ '_probe_rejects'
        ~ ' where scan_id = (select max(scan_id) from ' ~ file.staged ~ '_probe_scans)'
    ).rows[0] -%}
    {%- if failed[0] > 0 -%}
        {%- set error = failed[1] | lower | replace('_', ' ') -%}
        {#- A UTF-16 file read as UTF-8 shows its byte order mark (only read on this path). -#}
        {%- set utf16 = run_query(
            "select starts_with(hex(content), 'FFFE') or starts_with(hex(content), 'FEFF') from read_blob("
            ~ file.path_sql ~ ')'
        ).columns[0].values()[0] -%}
        {%- set hint = ': the file starts with a UTF-16 byte order mark; set input_encoding: utf-16' if utf16 else reject_hint(error, '') -%}
        {{ exceptions.raise_compiler_error(label ~ ': no line could be read: DuckDB rejected all ' ~ failed[0] ~ ' lines (' ~ error ~ ')' ~ hint) }}
    {%- endif -%}
{% endmacro %}


{#- Stops the build when the table or view named by var input_relation does not exist; label
    names the input in the message. -#}
{% macro check_relation_exists(input_relation, label) %}
    {{- return(adapter.dispatch('check_relation_exists', 'customer_segmentation')(input_relation, label)) -}}
{% endmacro %}


{% macro default__check_relation_exists(input_relation, label) %}
    {%- set parts = input_relation.split('.') -%}
    {%- set exists = run_query(
        "select count(*) from information_schema.tables where lower(table_name) = lower('"
        ~ parts[-1] ~ "')" ~ ((" and lower(table_schema) = lower('" ~ parts[-2] ~ "')") if parts | length > 1 else "")
    ).columns[0].values()[0] -%}
    {%- if exists == 0 -%}
        {{ exceptions.raise_compiler_error(label ~ ': table or view not found') }}
    {%- endif -%}
{% endmacro %}


{% macro spark__check_relation_exists(input_relation, label) %}
    {%- if spark_input_relation(input_relation) is none -%}
        {{ exceptions.raise_compiler_error(label ~ ': table or view not found') }}
    {%- endif -%}
{% endmacro %}


{#- The column names of an input as the engine reports them, in order: DuckDB describes the
    probe query (a file, a relation or the seed); Spark reads a file's names from its reader
    (kind csv or parquet) and asks the catalog for the relation named by var input_relation,
    or for the seed. -#}
{% macro input_column_names(probe_sql, input_relation, seed, kind) %}
    {{- return(adapter.dispatch('input_column_names', 'customer_segmentation')(probe_sql, input_relation, seed, kind)) -}}
{% endmacro %}


{% macro default__input_column_names(probe_sql, input_relation, seed, kind) %}
    {{- return(run_query('describe select * from ' ~ probe_sql).columns[0].values()) -}}
{% endmacro %}


{% macro spark__input_column_names(probe_sql, input_relation, seed, kind) %}
    {%- if kind in ['csv', 'parquet'] -%}
        {{- return(run_query('select * from ' ~ probe_sql ~ ' limit 0').column_names | list) -}}
    {%- endif -%}
    {%- set relation = spark_input_relation(input_relation) if input_relation else ref(seed) -%}
    {{- return(adapter.get_columns_in_relation(relation) | map(attribute='name') | list) -}}
{% endmacro %}


{#- The relation var input_relation names, from Spark's catalog (none when it does not exist). -#}
{% macro spark_input_relation(input_relation) %}
    {%- set parts = input_relation.split('.') -%}
    {{- return(adapter.get_relation(
        database=none,
        schema=parts[-2] if parts | length > 1 else target.schema,
        identifier=parts[-1]
    )) -}}
{% endmacro %}


{#- Stops the build when the CSV header names a column twice (case-insensitively): DuckDB would
    rename the second one, and a measure could be read from the wrong column. -#}
{% macro check_header_unique(file, label) %}
    {%- set header = run_query('select * from ' ~ file.header_sql ~ ' limit 1') -%}
    {%- set seen = [] -%}
    {%- for value in (header.rows[0] if header.rows | length > 0 else []) -%}
        {%- set key = (value or '') | string | trim | lower -%}
        {%- if key and key in seen -%}
            {{ exceptions.raise_compiler_error(label ~ ": the header names column '" ~ value ~ "' twice; rename or remove one") }}
        {%- endif -%}
        {%- do seen.append(key) -%}
    {%- endfor -%}
{% endmacro %}
