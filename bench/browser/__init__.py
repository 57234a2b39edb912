"""Browser-rendered screen benchmark: business apps drawn by headless Chromium, scored from the DOM.

Apart from `veil.synth` on purpose: its layouts, fonts and values are not the ones the detectors
were tuned on. `values` draws the values (Faker and our own lists, disjoint from the detectors'),
`page` / `templates` / `templates_more` write the HTML of each app (`faces` its photos), `render`
drives Chromium and reads every value's boxes from the DOM (`collect.js`), `scoring` applies the
ink rule, and `bench.browser_screens` runs it all.
"""
