/* The ai_tutor chat: sends questions to the block's handlers and shows the replies.
 * Reply HTML comes sanitised from the server; the learner's own words are inserted as text. */
/* The block's own catalog (window[namespace], from translations/<lang>/text.js) knows its
 * strings; the page's gettext knows the platform's. */
function aiTutorTranslator(initArgs) {
    "use strict";
    var namespace = initArgs && initArgs.i18nNamespace;
    var own = namespace && window[namespace] && window[namespace].gettext;
    var page = window.gettext;
    return function (message) {
        var translated = own ? own(message) : message;
        if (translated === message && page) { translated = page(message); }
        return translated;
    };
}

/* Typeset math with the page's MathJax, if it has one (version 2 or 3); never load another. */
function aiTutorTypeset(node) {
    "use strict";
    var mathjax = window.MathJax;
    if (!mathjax || !node.querySelector(".ai-tutor-math")) { return; }
    if (mathjax.typesetPromise) {
        mathjax.typesetPromise([node]).catch(function () {});
    } else if (mathjax.Hub && mathjax.Hub.Queue) {
        mathjax.Hub.Queue(["Typeset", mathjax.Hub, node]);
    }
}

/* POST JSON to a handler with the CSRF token; resolves with the reply, or rejects with an
 * Error whose message is the server's, with `retry` and `kept` from its error body. */
function aiTutorPost(url, payload, gettext) {
    "use strict";
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
            "Content-Type": "application/json",
            "X-CSRFToken": match ? decodeURIComponent(match[1]) : ""
        },
        body: JSON.stringify(payload)
    }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
            if (!response.ok) {
                var message = (data && data.error && data.error.message) ||
                    gettext("The tutor is not available right now.");
                var error = new Error(message);
                // Busy and provider failures can be retried; a 5xx without JSON too.
                error.retry = data && data.error ? Boolean(data.error.retry) :
                    response.status >= 500;
                // The server kept the question in the history, marked failed.
                error.kept = Boolean(data && data.error && data.error.kept);
                throw error;
            }
            return data;
        });
    });
}

function AITutorBlock(runtime, element, initArgs) {
    "use strict";

    var root = element && element.jquery ? element[0] : element;
    var section = root.querySelector(".ai-tutor");
    var log = section.querySelector(".ai-tutor-log");
    var live = section.querySelector(".ai-tutor-live");
    var status = section.querySelector(".ai-tutor-status");
    var form = section.querySelector(".ai-tutor-form");
    var box = section.querySelector(".ai-tutor-question");
    var send = section.querySelector(".ai-tutor-send");
    var clear = section.querySelector(".ai-tutor-clear");
    var askUrl = runtime.handlerUrl(root, "ask");
    var clearUrl = runtime.handlerUrl(root, "clear");
    var feedbackUrl = runtime.handlerUrl(root, "feedback");
    var gettext = aiTutorTranslator(initArgs);

    function post(url, payload) {
        return aiTutorPost(url, payload, gettext);
    }

    function setStatus(message, isError) {
        status.textContent = message;
        status.classList.toggle("ai-tutor-status-error", Boolean(isError));
    }

    function addTurn(role, build) {
        var item = document.createElement("li");
        item.className = "ai-tutor-turn ai-tutor-turn-" + role;
        var speaker = document.createElement("span");
        speaker.className = "ai-tutor-speaker";
        speaker.textContent = role === "user" ? gettext("You") : gettext("Tutor");
        item.appendChild(speaker);
        build(item, speaker);
        log.appendChild(item);
        log.scrollTop = log.scrollHeight;
        return item;
    }

    function addQuestion(question) {
        return addTurn("user", function (item) {
            var body = document.createElement("div");
            body.className = "ai-tutor-text";
            body.textContent = question;
            item.appendChild(body);
        });
    }

    function newMessageId() {
        if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
        return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
    }

    function clearFailure(item) {
        item.classList.remove("ai-tutor-turn-failed");
        var note = item.querySelector(".ai-tutor-failed-note");
        if (note) { note.remove(); }
    }

    function markFailed(item, question, messageId) {
        clearFailure(item);
        item.classList.add("ai-tutor-turn-failed");
        item.setAttribute("data-client-msg-id", messageId);
        item.setAttribute("data-question", question);
        var note = document.createElement("p");
        note.className = "ai-tutor-note ai-tutor-failed-note";
        note.textContent = gettext("The tutor did not answer this question.") + " ";
        var retry = document.createElement("button");
        retry.type = "button";
        retry.className = "ai-tutor-retry";
        retry.textContent = gettext("Retry");
        note.appendChild(retry);
        item.appendChild(note);
    }

    function addFeedback(item, messageId) {
        var group = document.createElement("div");
        group.className = "ai-tutor-feedback";
        group.setAttribute("data-reply-to", messageId);
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", gettext("Rate this reply"));
        var question = document.createElement("span");
        question.className = "ai-tutor-feedback-label";
        question.setAttribute("aria-hidden", "true");  // the group's label says it
        question.textContent = gettext("Was this helpful?");
        group.appendChild(question);
        [["up", gettext("Helpful")], ["down", gettext("Not helpful")]].forEach(function (choice) {
            var button = document.createElement("button");
            button.type = "button";
            button.className = "ai-tutor-thumb";
            button.setAttribute("data-rating", choice[0]);
            button.setAttribute("aria-pressed", "false");
            button.textContent = choice[1];
            group.appendChild(button);
        });
        item.appendChild(group);
    }

    /* A thumb sends its rating at once, then offers an optional comment. */
    function rate(event) {
        var button = event.target.closest(".ai-tutor-thumb, .ai-tutor-comment-send");
        if (!button) { return; }
        event.preventDefault();
        var group = button.closest(".ai-tutor-feedback");
        var commentBox = group.querySelector(".ai-tutor-comment");
        var rating = button.getAttribute("data-rating") || group.getAttribute("data-rating");
        var payload = {client_msg_id: group.getAttribute("data-reply-to"), rating: rating};
        if (button.classList.contains("ai-tutor-comment-send") && commentBox) {
            payload.comment = commentBox.value;
        }
        button.disabled = true;
        post(feedbackUrl, payload).then(function () {
            group.setAttribute("data-rating", rating);
            Array.prototype.forEach.call(group.querySelectorAll(".ai-tutor-thumb"), function (thumb) {
                thumb.setAttribute("aria-pressed",
                    String(thumb.getAttribute("data-rating") === rating));
            });
            if (payload.comment !== undefined) {
                group.querySelector(".ai-tutor-comment-form").remove();
                setStatus(gettext("Thank you for your comment."));
            } else {
                setStatus(gettext("Thank you for your feedback."));
                if (!commentBox) { addCommentForm(group); }
            }
        }).catch(function (error) {
            setStatus(error.message, true);
        }).then(function () {
            button.disabled = false;
        });
    }

    function addCommentForm(group) {
        var wrapper = document.createElement("div");
        wrapper.className = "ai-tutor-comment-form";
        var id = "ai-tutor-comment-" + Math.random().toString(36).slice(2);
        var label = document.createElement("label");
        label.setAttribute("for", id);
        label.textContent = gettext("Tell us more (optional)");
        var comment = document.createElement("textarea");
        comment.id = id;
        comment.className = "ai-tutor-comment";
        comment.rows = 2;
        comment.maxLength = 1000;
        var sendComment = document.createElement("button");
        sendComment.type = "button";
        sendComment.className = "ai-tutor-comment-send";
        sendComment.textContent = gettext("Send comment");
        wrapper.appendChild(label);
        wrapper.appendChild(comment);
        wrapper.appendChild(sendComment);
        group.appendChild(wrapper);
    }

    function addReply(data, messageId) {
        addTurn("assistant", function (item, speaker) {
            if (data.offline) {
                var badge = document.createElement("span");
                badge.className = "ai-tutor-badge";
                badge.textContent = gettext("offline");
                speaker.appendChild(document.createTextNode(" "));
                speaker.appendChild(badge);
            }
            var body = document.createElement("div");
            body.className = "ai-tutor-text";
            body.innerHTML = data.reply_html;  // sanitised on the server
            item.appendChild(body);
            if (data.truncated) {
                var note = document.createElement("p");
                note.className = "ai-tutor-note";
                note.textContent = gettext("This reply was cut short.");
                item.appendChild(note);
            }
            if (data.citations && data.citations.length) {
                var sources = document.createElement("div");
                sources.className = "ai-tutor-citations";
                sources.appendChild(document.createTextNode(gettext("Sources:")));
                var list = document.createElement("ol");
                data.citations.forEach(function (citation) {
                    var entry = document.createElement("li");
                    var link = document.createElement("a");
                    link.href = "#";
                    link.className = "ai-tutor-citation";
                    link.setAttribute("data-source-id", citation.source_id);
                    link.textContent = citation.source_name;
                    entry.appendChild(link);
                    list.appendChild(entry);
                });
                sources.appendChild(list);
                item.appendChild(sources);
            }
            if (messageId) { addFeedback(item, messageId); }
            aiTutorTypeset(item);
        });
        live.textContent = gettext("The tutor replied: ") + data.reply_text;
    }

    /* Send a question; the same message id on a retry lets the server answer it once. */
    function sendQuestion(question, messageId, item) {
        send.disabled = true;
        box.setAttribute("aria-busy", "true");
        setStatus(gettext("The tutor is thinking…"));
        clearFailure(item);
        post(askUrl, {question: question, client_msg_id: messageId}).then(function (data) {
            addReply(data, messageId);
            setStatus("");
        }).catch(function (error) {
            setStatus(error.message, true);
            if (error.kept || error.retry || error instanceof TypeError) {  // TypeError: no network
                markFailed(item, question, messageId);
            } else {
                item.remove();  // not kept by the server: give the words back to edit
                if (!box.value) { box.value = question; }
            }
        }).then(function () {
            send.disabled = false;
            box.removeAttribute("aria-busy");
            box.focus();
        });
    }

    function ask(event) {
        event.preventDefault();
        var question = box.value.trim();
        if (!question || send.disabled) { return; }
        var item = addQuestion(question);
        box.value = "";
        sendQuestion(question, newMessageId(), item);
    }

    function retry(event) {
        var button = event.target.closest(".ai-tutor-retry");
        if (!button || send.disabled) { return; }
        event.preventDefault();
        var item = button.closest(".ai-tutor-turn");
        var question = item.getAttribute("data-question") ||
            item.querySelector(".ai-tutor-text").textContent;
        var messageId = item.getAttribute("data-client-msg-id") || newMessageId();
        log.appendChild(item);  // the answer will follow it
        sendQuestion(question, messageId, item);
    }

    function clearConversation() {
        clear.disabled = true;
        post(clearUrl, {}).then(function () {
            Array.prototype.slice.call(log.querySelectorAll(".ai-tutor-turn:not(.ai-tutor-welcome)"))
                .forEach(function (item) { item.remove(); });
            setStatus(gettext("Conversation cleared."));
        }).catch(function (error) {
            setStatus(error.message, true);
        }).then(function () {
            clear.disabled = false;
        });
    }

    function showSource(event) {
        var link = event.target.closest(".ai-tutor-citation");
        if (!link) { return; }
        event.preventDefault();
        var id = link.getAttribute("data-source-id").split("#")[0];
        var target = Array.prototype.slice.call(
            document.querySelectorAll("[data-usage-id], [data-usage]")
        ).filter(function (node) {
            return (node.getAttribute("data-usage-id") || node.getAttribute("data-usage")) === id;
        })[0];
        if (target) {
            // Centred, so a fixed page header cannot cover the cited component.
            target.scrollIntoView({behavior: "smooth", block: "center"});
            if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
            target.focus({preventScroll: true});
        }
    }

    form.addEventListener("submit", ask);
    box.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { ask(event); }
    });
    clear.addEventListener("click", clearConversation);
    log.addEventListener("click", showSource);
    log.addEventListener("click", retry);
    log.addEventListener("click", rate);
    var csv = section.querySelector(".ai-tutor-staff-csv");
    if (csv) { csv.href = runtime.handlerUrl(root, "usage_csv"); }
    aiTutorTypeset(log);
    if (initArgs && initArgs.maxQuestionChars) {
        box.setAttribute("maxlength", String(initArgs.maxQuestionChars));
    }
    log.scrollTop = log.scrollHeight;  // a reloaded history opens on its newest turn
}
