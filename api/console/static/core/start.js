// Loaded last: every screen has registered itself by now.
"use strict";
CD.shell.start();
