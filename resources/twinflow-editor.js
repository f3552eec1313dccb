// Editor helpers shared by Twinflow's edit dialogs (Node-RED serves this folder as
// resources/node-red-contrib-twinflow/). Rule tables as editable lists: one text input (or a select,
// for columns with options) per column, read back as objects of trimmed, non-empty texts.
(function () {
  function text(v) { return Array.isArray(v) ? v.join(', ') : v === undefined || v === null ? '' : String(v); }

  /** Fills the editable list at `selector` with `entries`; columns: { key, placeholder, flex, options }. */
  function table(selector, columns, entries, minWidth) {
    const list = $(selector).css({ 'min-height': '80px', 'min-width': minWidth || '460px' }).editableList({
      addItem: function (row, index, entry) {
        row.css({ display: 'flex', gap: '4px' });
        columns.forEach(function (c) {
          let input;
          if (c.options) {
            input = $('<select>');
            c.options.forEach(function (o) { $('<option>').val(o).text(o).appendTo(input); });
            input.val(entry[c.key] === undefined ? c.options[0] : entry[c.key]);
          } else {
            input = $('<input type="text">').attr('placeholder', c.placeholder || '').val(text(entry[c.key]));
          }
          input.addClass('tf-' + c.key).css({ flex: c.flex || 1, 'min-width': 0 }).appendTo(row);
        });
      },
      removable: true,
      sortable: true,
    });
    (entries || []).forEach(function (e) { list.editableList('addItem', e); });
  }

  /** The rows of the editable list at `selector`; `convert(key, text)` may turn a cell into another value. */
  function collect(selector, columns, convert) {
    const out = [];
    $(selector).editableList('items').each(function () {
      const row = $(this);
      const entry = {};
      columns.forEach(function (c) {
        const v = String(row.find('.tf-' + c.key).val()).trim();
        if (v !== '') entry[c.key] = convert ? convert(c, v) : v;
      });
      out.push(entry);
    });
    return out;
  }

  window.TwinflowEditor = { table: table, collect: collect, text: text };
})();
