# The dashboard in a real terminal (tmux), and the demo line (tui area).
#   tui_terminal_fake*   the dashboard on a fake line (tui/tui_fake.c): keys, dialogs,
#                        locked mode, resize, colour / NO_COLOR, UTF-8 / ASCII
#   tui_terminal_demo*   `station demo` in tmux: what an operator sees, end to end
#   demo_headless        `station demo --json` on the same scenario: the counts
find_program(ST_TMUX tmux)
find_program(ST_BASH bash REQUIRED)
set(ST_DEMO_SCENARIO ${CMAKE_SOURCE_DIR}/tests/sim/scenarios/demo.txt)
set(ST_TUI_TMUX ${CMAKE_CURRENT_LIST_DIR}/tui_tmux.sh)

if(ST_TMUX)
  add_test(NAME tui_terminal_fake
    COMMAND ${CMAKE_COMMAND} -E env --unset=NO_COLOR TUI_LANG=C.UTF-8
      ${ST_BASH} ${ST_TUI_TMUX} fake $<TARGET_FILE:tui_fake>)
  add_test(NAME tui_terminal_fake_nocolor_ascii
    COMMAND ${CMAKE_COMMAND} -E env NO_COLOR=1 TUI_LANG=C
      ${ST_BASH} ${ST_TUI_TMUX} fake $<TARGET_FILE:tui_fake>)
  # The demo as shipped (serial-speed realism, scenario found by itself); quits mid-run.
  add_test(NAME tui_terminal_demo
    COMMAND ${CMAKE_COMMAND} -E env --unset=NO_COLOR TUI_LANG=C.UTF-8
      ${ST_BASH} ${ST_TUI_TMUX} demo $<TARGET_FILE:station> ${ST_DEMO_SCENARIO})
  # `station run`'s profile picker: search-path profiles only, typed paths per flag.
  add_test(NAME tui_terminal_picker
    COMMAND ${CMAKE_COMMAND} -E env --unset=NO_COLOR TUI_LANG=C.UTF-8
      ${ST_BASH} ${ST_TUI_TMUX} picker $<TARGET_FILE:station> ${ST_DEMO_PROFILE_DIR})
  # Without colour, to the last unit (--fast keeps it well inside the time limit).
  add_test(NAME tui_terminal_demo_nocolor
    COMMAND ${CMAKE_COMMAND} -E env NO_COLOR=1 TUI_LANG=C.UTF-8 DEMO_WAIT_ALL=1
      ${ST_BASH} ${ST_TUI_TMUX} demo $<TARGET_FILE:station> ${ST_DEMO_SCENARIO} --fast)
  # A line layout file: the fixture's labels at fixed grid positions, 80x24 and 200x50.
  add_test(NAME tui_terminal_layout
    COMMAND ${CMAKE_COMMAND} -E env --unset=NO_COLOR TUI_LANG=C.UTF-8
      ${ST_BASH} ${ST_TUI_TMUX} layout $<TARGET_FILE:station>
      ${CMAKE_CURRENT_LIST_DIR}/layout_demo.ini)
else()
  # No skipping: a missing tmux is a failed test that says what to install.
  add_test(NAME tui_terminal_tmux_missing
    COMMAND ${CMAKE_COMMAND} -E false)
  message(WARNING "tmux not found: the dashboard terminal tests cannot run (packaging/deps.sh)")
endif()
add_test(NAME demo_headless
  COMMAND ${ST_BASH} ${CMAKE_CURRENT_LIST_DIR}/demo_headless.sh $<TARGET_FILE:station>
    ${ST_DEMO_SCENARIO} --fast)

set(ST_TUI_TESTS tui_terminal_fake tui_terminal_fake_nocolor_ascii tui_terminal_demo
  tui_terminal_demo_nocolor tui_terminal_picker tui_terminal_layout demo_headless)
if(NOT ST_TMUX)
  set(ST_TUI_TESTS tui_terminal_tmux_missing demo_headless)
endif()
set_tests_properties(${ST_TUI_TESTS} PROPERTIES TIMEOUT 60 LABELS "integration;tui")
