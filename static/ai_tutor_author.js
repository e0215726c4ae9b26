/* Studio's "Try it" panel: asks the block's try_it handler and shows the reply, the passages
 * it drew on and the token counts. Reply HTML comes sanitised from the server; everything
 * else is inserted as text. Uses aiTutorTranslator, aiTutorPost and aiTutorTypeset from ai_tutor.js. */
function AITutorAuthor(runtime, element, initArgs) {
    "use strict";

    var root = element && element.jquery ? element[0] : element;
    var section = root.querySelector(".ai-tutor-author");
    var form = section.querySelector(".ai-tutor-try-form");
    var box = section.querySelector(".ai-tutor-try-question");
    var send = section.querySelector(".ai-tutor-try-send");
    var status = section.querySelector(".ai-tutor-status");
    var result = section.querySelector(".ai-tutor-try-result");
    var reply = section.querySelector(".ai-tutor-try-reply");
    var passages = section.querySelector(".ai-tutor-try-passages");
    var tokens = section.querySelector(".ai-tutor-try-tokens");
    var url = runtime.handlerUrl(root, "try_it");
    var gettext = aiTutorTranslator(initArgs);

    function show(data) {
        reply.innerHTML = data.reply_html;  // sanitised on the server
        passages.textContent = "";
        (data.passages || []).forEach(function (passage) {
            var item = document.createElement("li");
            item.textContent = passage.source_name;
            passages.appendChild(item);
        });
        if (!passages.children.length) {
            var none = document.createElement("li");
            none.textContent = gettext("None");
            passages.appendChild(none);
        }
        tokens.textContent = gettext("Tokens: {input} in, {output} out")
            .replace("{input}", String(data.input_tokens))
            .replace("{output}", String(data.output_tokens)) +
            " · " + data.provider + " / " + data.model;
        result.hidden = false;
        aiTutorTypeset(result);
    }

    function ask(question) {
        if (!question || send.disabled) { return; }
        send.disabled = true;
        status.textContent = gettext("The tutor is thinking…");
        aiTutorPost(url, {question: question}, gettext).then(function (data) {
            show(data);
            status.textContent = gettext("The tutor replied.");
        }).catch(function (error) {
            status.textContent = error.message;
        }).then(function () {
            send.disabled = false;
            box.focus();
        });
    }

    form.addEventListener("submit", function (event) {
        event.preventDefault();
        ask(box.value.trim());
    });
    section.addEventListener("click", function (event) {
        var probe = event.target.closest(".ai-tutor-probe");
        if (!probe) { return; }
        event.preventDefault();
        box.value = probe.getAttribute("data-question");
        ask(box.value);
    });
}
