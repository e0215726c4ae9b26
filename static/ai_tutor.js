/* The ai_tutor chat: sends questions to the block's handlers and shows the replies.
 * Reply HTML comes sanitised from the server; the learner's own words are inserted as text. */
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
    var text = (window.gettext || function (s) { return s; });

    function csrfToken() {
        var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
        return match ? decodeURIComponent(match[1]) : "";
    }

    function post(url, payload) {
        return fetch(url, {
            method: "POST",
            credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
            body: JSON.stringify(payload)
        }).then(function (response) {
            return response.json().catch(function () { return {}; }).then(function (data) {
                if (!response.ok) {
                    var message = (data && data.error && data.error.message) ||
                        text("The tutor is not available right now.");
                    var error = new Error(message);
                    // Busy and provider failures can be retried; a 5xx without JSON too.
                    error.retry = data && data.error ? Boolean(data.error.retry) :
                        response.status >= 500;
                    throw error;
                }
                return data;
            });
        });
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
        speaker.textContent = role === "user" ? text("You") : text("Tutor");
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
        note.textContent = text("The tutor did not answer this question.") + " ";
        var retry = document.createElement("button");
        retry.type = "button";
        retry.className = "ai-tutor-retry";
        retry.textContent = text("Retry");
        note.appendChild(retry);
        item.appendChild(note);
    }

    function addReply(data) {
        addTurn("assistant", function (item, speaker) {
            if (data.offline) {
                var badge = document.createElement("span");
                badge.className = "ai-tutor-badge";
                badge.textContent = text("offline");
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
                note.textContent = text("This reply was cut short.");
                item.appendChild(note);
            }
            if (data.citations && data.citations.length) {
                var sources = document.createElement("div");
                sources.className = "ai-tutor-citations";
                sources.appendChild(document.createTextNode(text("Sources:")));
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
        });
        live.textContent = text("The tutor replied: ") + data.reply_text;
    }

    /* Send a question; the same message id on a retry lets the server answer it once. */
    function sendQuestion(question, messageId, item) {
        send.disabled = true;
        box.setAttribute("aria-busy", "true");
        setStatus(text("The tutor is thinking…"));
        clearFailure(item);
        post(askUrl, {question: question, client_msg_id: messageId}).then(function (data) {
            addReply(data);
            setStatus("");
        }).catch(function (error) {
            setStatus(error.message, true);
            if (error.retry || error instanceof TypeError) {  // TypeError: no network
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
            setStatus(text("Conversation cleared."));
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
    if (initArgs && initArgs.maxQuestionChars) {
        box.setAttribute("maxlength", String(initArgs.maxQuestionChars));
    }
    log.scrollTop = log.scrollHeight;  // a reloaded history opens on its newest turn
}
